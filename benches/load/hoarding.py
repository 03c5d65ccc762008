#!/usr/bin/env python3
"""Hoarding and push bombing against the reference server, as an anonymous attacker tries them.

Issue #14, defects 2 and 5: anyone could take a product off sale with unpaid orders, and prompt
a stranger's phone again and again. This script starts `pochi-server` (SQLite in a temporary
directory, simulated M-Pesa, the shop's default limits, the HTTP rate limits off so only the
shop's own limits answer, and `X-Forwarded-For` trusted so one machine can play many client
addresses), has an admin add one product with 1,000 units, then runs the attacks:

  one phone, rotating addresses   many orders with one phone, each from a new IPv4 address
  one phone, one address          many orders with one phone from one address
  many phones, one address        many orders, each with a new phone, from one IPv4 address
  many phones, one IPv6 /64       many orders, new phones and new addresses within one /64
  pushes to one phone             payment prompts to one phone for many orders

Each order asks for 999 units first (refused: the cap per order), then for the cap. For each
attack it prints the orders placed, the units they hold, the product's stock as the storefront
shows it, and the most the limits allow, and fails when more is held than allowed, or when a
refusal is anything but the expected stable code (429 with `Retry-After` for the limits, 422
for the cap). At the end it waits for the short hold of orders nobody paid to pass and checks
every unit came back exactly once.

    benches/load/hoarding.py --server target/release/pochi-server

Prints, per attack:
    POCHI_RESULT attack= attempts= placed= units_held= allowed_units= refusals=
"""

import argparse
import base64
import http.client
import ipaddress
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pochi_server  # noqa: E402  (the shared server launcher beside this script)

PASSWORD = "hoarding-bench-password"
STOCK = 1000
# The defaults of pochi-server (ShopConfig::default), which this script checks against.
CAP = 10
PER_PHONE = 3
PER_ADDRESS = 20
PUSHES_PER_PHONE = 5
# Short enough to see the stock come back in the run, long enough for the attacks to finish.
HOLD_SECS = 25


class Client:
    def __init__(self, host, port):
        self.conn = http.client.HTTPConnection(host, port, timeout=30)

    def call(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        payload = resp.read()
        value = json.loads(payload) if payload else None
        return resp.status, dict(resp.getheaders()), value


def checkout(product_id, phone, quantity):
    return {
        "name": "Mteja",
        "phone": phone,
        "county": "Nairobi",
        "area": "Westlands",
        "address": "Moi Avenue",
        "items": [{"productId": product_id, "quantity": quantity}],
    }


def error_code(value):
    return (value or {}).get("error", {}).get("code")


def hoard(client, product_id, attempts, phone_of, address_of, expected_limit_codes):
    """Places as many orders as it can; returns (placed, units, refusal codes)."""
    placed, units, refusals = 0, 0, {}
    for n in range(attempts):
        headers = {"X-Forwarded-For": address_of(n)}
        # More than the cap: refused as invalid input, nothing reserved.
        status, _, value = client.call(
            "POST", "/api/orders", checkout(product_id, phone_of(n), 999), headers
        )
        if status != 422 or (value["error"].get("field") != "items[0].quantity"):
            raise RuntimeError(f"999 units: expected 422 at items[0].quantity, got {status} {value}")
        status, response_headers, value = client.call(
            "POST", "/api/orders", checkout(product_id, phone_of(n), CAP), headers
        )
        if status == 201:
            placed += 1
            units += CAP
            continue
        code = error_code(value)
        if status != 429 or code not in expected_limit_codes:
            raise RuntimeError(f"expected 429 {expected_limit_codes}, got {status} {value}")
        if not response_headers.get("retry-after", "").isdigit():
            raise RuntimeError(f"429 without Retry-After: {response_headers}")
        refusals[code] = refusals.get(code, 0) + 1
    return placed, units, refusals


def stock(client, product_id):
    status, _, value = client.call("GET", f"/api/products/{product_id}")
    if status != 200:
        raise RuntimeError(f"product: {status} {value}")
    return value["stock"]


def report(attack, attempts, placed, units, allowed, refusals):
    print(
        f"POCHI_RESULT attack={attack} attempts={attempts} placed={placed} "
        f"units_held={units} allowed_units={allowed} "
        f"refusals={','.join(f'{k}:{v}' for k, v in sorted(refusals.items())) or '-'}",
        flush=True,
    )
    if units > allowed:
        raise RuntimeError(f"{attack}: {units} units held, the limits allow {allowed}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="target/release/pochi-server")
    parser.add_argument("--attempts", type=int, default=60)
    args = parser.parse_args()
    attempts = args.attempts

    data_dir = tempfile.mkdtemp(prefix="pochi-hoard-")
    proc, host, port = pochi_server.start(
        args.server,
        data_dir,
        POCHI_TRUSTED_PROXY="X-Forwarded-For",
        # One machine plays many client addresses through X-Forwarded-For: a proxy in front
        # of simulated M-Pesa, which the server refuses without this override.
        POCHI_DANGER_SIMULATED_PAYMENTS_IN_PUBLIC="true",
        POCHI_DEMO_PRODUCTS="false",
        POCHI_ADMIN_USERS=f"admin:{pochi_server.hash_password(args.server, PASSWORD)}",
        POCHI_UNSTARTED_ORDER_EXPIRY=f"{HOLD_SECS}s",
        POCHI_EXPIRY_INTERVAL="1s",
    )
    try:
        client = Client(host, port)
        auth = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
        status, _, product = client.call(
            "POST",
            "/api/admin/products",
            {"name": "Kikoi", "price": "1500", "stock": STOCK},
            {"Authorization": f"Basic {auth}"},
        )
        if status != 201:
            raise RuntimeError(f"creating the product: {status} {product}")
        pid = product["id"]
        held_total = 0
        phone_code = "too_many_open_orders_for_phone"
        address_code = "too_many_open_orders_from_address"

        attacks = [
            # name, phone of attempt n, address of attempt n, codes, allowed orders
            ("one-phone-rotating-addresses", lambda n: "0711000001",
             lambda n: f"10.1.{n // 250}.{n % 250 + 1}", {phone_code}, PER_PHONE),
            ("one-phone-one-address", lambda n: "0711000002",
             lambda n: "10.2.0.1", {phone_code}, PER_PHONE),
            ("many-phones-one-address", lambda n: f"0712{n:06d}",
             lambda n: "10.3.0.1", {address_code}, PER_ADDRESS),
            ("many-phones-one-ipv6-64", lambda n: f"0713{n:06d}",
             lambda n: str(ipaddress.IPv6Address("2001:db8:1:2::") + (n * 7919 + 1)),
             {address_code}, PER_ADDRESS),
        ]
        for name, phone_of, address_of, codes, allowed_orders in attacks:
            placed, units, refusals = hoard(client, pid, attempts, phone_of, address_of, codes)
            held_total += units
            report(name, attempts, placed, units, allowed_orders * CAP, refusals)
            left = stock(client, pid)
            if left != STOCK - held_total:
                raise RuntimeError(f"stock {left}, expected {STOCK - held_total}")

        # Pushes to one phone: orders from their own phones and addresses, each paid by a
        # prompt to the same stranger's phone.
        prompted, pending, refused = 0, 0, {}
        for n in range(PUSHES_PER_PHONE + 5):
            headers = {"X-Forwarded-For": f"10.5.0.{n + 1}"}
            status, _, order = client.call(
                "POST", "/api/orders", checkout(pid, f"0714{n:06d}", 1), headers
            )
            if status != 201:
                raise RuntimeError(f"order for a push: {status} {order}")
            held_total += 1
            status, response_headers, value = client.call(
                "POST",
                "/api/payments",
                {"orderNumber": order["number"], "phone": "0799 123 456"},
                headers,
            )
            # A prompt M-Pesa declines (the simulator, like Daraja, refuses a second prompt
            # while one is open on the phone) was still asked of it: both count.
            if status in (200, 201, 202):
                prompted += 1
                pending += 1
            elif status == 422 and error_code(value) == "payment_declined":
                prompted += 1
            elif status == 429 and error_code(value) == "too_many_payment_requests_for_phone":
                if not response_headers.get("retry-after", "").isdigit():
                    raise RuntimeError("429 without Retry-After")
                refused["too_many_payment_requests_for_phone"] = (
                    refused.get("too_many_payment_requests_for_phone", 0) + 1
                )
            else:
                raise RuntimeError(f"push: {status} {value}")
        print(
            f"POCHI_RESULT attack=pushes-to-one-phone attempts={PUSHES_PER_PHONE + 5} "
            f"prompts_sent={prompted} allowed_prompts={PUSHES_PER_PHONE} "
            f"refusals={','.join(f'{k}:{v}' for k, v in refused.items()) or '-'}",
            flush=True,
        )
        if prompted > PUSHES_PER_PHONE:
            raise RuntimeError(f"{prompted} prompts reached one phone")

        # The short hold: orders nobody started to pay come back, and so do those whose
        # prompt M-Pesa declined (the hold counts again from the attempt's end); an order whose
        # prompt is still open on the phone stays held while the customer may be paying.
        deadline = time.monotonic() + HOLD_SECS + 30
        while time.monotonic() < deadline:
            left = stock(client, pid)
            if left >= STOCK - pending:
                break
            time.sleep(1)
        print(
            f"after the short hold ({HOLD_SECS} s): stock {left} of {STOCK} "
            f"({STOCK - left} held by orders whose payment prompt is still open)",
            flush=True,
        )
        # Every unit comes back once: never fewer than the open prompts hold, never more
        # than the stock the shop started with.
        if not STOCK - pending <= left <= STOCK:
            raise RuntimeError(
                f"stock {left} after the hold, expected {STOCK - pending} to {STOCK}"
            )
        return 0
    except RuntimeError as err:
        print(f"hoarding: {err}", file=sys.stderr)
        return 1
    finally:
        pochi_server.stop(proc)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
