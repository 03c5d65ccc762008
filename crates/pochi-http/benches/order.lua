-- wrk script: POST /api/orders with a valid checkout for the product named in PRODUCT_ID.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"name":"Wanjiru Kamau","phone":"0712345678","county":"Nairobi","area":"Westlands",'
  .. '"address":"Mpaka Road","items":[{"productId":"' .. os.getenv("PRODUCT_ID") .. '","quantity":1}]}'
