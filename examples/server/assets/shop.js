// The shop page: the catalogue from the API, "add to cart" into the cart kept in localStorage.
"use strict";

(() => {
  const { api, cart, el, say, money, productImage, t } = Pochi;
  const list = document.getElementById("products");
  const status = document.getElementById("status");
  const moreWrap = document.getElementById("more-wrap");
  const more = document.getElementById("more");
  const bar = document.getElementById("cart-bar");
  let cursor = null;

  function showBar() {
    const n = cart.count();
    bar.hidden = n === 0;
    document.getElementById("cart-bar-count").textContent = String(n);
  }

  function stockText(product) {
    if (product.stock === null || product.stock === undefined) return "";
    if (product.stock === 0) return t("shop.out_of_stock");
    if (product.stock <= 5) return t("shop.only_left", { count: product.stock });
    return t("shop.in_stock");
  }

  function card(product) {
    const soldOut = product.stock === 0;
    const button = el("button", {
      type: "button",
      class: "add-to-cart",
      disabled: soldOut,
      text: soldOut ? t("shop.sold_out") : t("shop.add"),
    });
    const inCart = cart.quantityOf(product.id);
    if (inCart > 0) button.textContent = t("shop.add_another", { count: inCart });
    button.addEventListener("click", () => {
      const already = cart.quantityOf(product.id);
      if (product.stock !== null && product.stock !== undefined && already >= product.stock) {
        say(status, t("shop.only_stock", { count: product.stock, product: product.name }), "warn");
        return;
      }
      cart.add(product, 1);
      button.textContent = t("shop.add_another", { count: already + 1 });
      say(status, t("shop.added", { product: product.name }), "ok");
      showBar();
    });
    return el(
      "li",
      { class: "product", dataset: { productId: product.id, productName: product.name } },
      productImage(product.image, product.name, "picture"),
      el(
        "div",
        { class: "body" },
        el("h2", { text: product.name }),
        el("p", { class: "description", text: product.description }),
        el("span", { class: "price", text: money(product.price) }),
        el("p", { class: "stock", text: stockText(product) }),
        button,
      ),
    );
  }

  async function load() {
    more.disabled = true;
    try {
      const page = await api(`products?limit=24${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      if (!cursor && page.items.length === 0) {
        say(status, t("shop.nothing"), "");
      }
      page.items.forEach((p) => list.append(card(p)));
      cursor = page.nextCursor;
      moreWrap.hidden = !cursor;
    } catch (error) {
      say(status, error.message, "error");
    } finally {
      more.disabled = false;
    }
  }

  more.addEventListener("click", load);
  window.addEventListener("storage", showBar);
  showBar();
  Pochi.ready.then(load);
})();
