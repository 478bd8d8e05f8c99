#!/usr/bin/env python3
"""seed_corpus.py - writes the seed corpora of the fuzz targets.

Usage: fuzz/seed_corpus.py [WORKLOAD_DIR]

Seeds come from the example store (examples/full_sync.json, examples/carts,
examples/edgepromo.conf) and from a small gen-workload run (40 promotions,
seed 1): WORKLOAD_DIR holds its output; without it, gen-workload is run from
/work/shared/bench/gen-workload (or $GEN_WORKLOAD). The workload's full body
is also kept as fuzz/data/workload_full_sync.json, the second snapshot the
cart and HTTP targets evaluate against. Seed files are named seed-*; what
the fuzzers found and were kept are named by their hash. Rerunning
rewrites the seed-* files only.
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
STORE = "ee90b1f6-2ec2-4b46-8b4a-79d208b3c04c"
TOKEN = "fuzz-terminal-token-0001"
SEP = "\x1f"


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, "seed-" + name), "wb") as f:
        f.write(data)


def compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def workload_dir():
    if len(sys.argv) > 1:
        return sys.argv[1]
    gen = os.environ.get("GEN_WORKLOAD", "/work/shared/bench/gen-workload")
    out = tempfile.mkdtemp(prefix="ep-seed-")
    subprocess.run([sys.executable, gen, "--out", out, "--promotions", "40",
                    "--carts", "30", "--lines", "6", "--changes", "10",
                    "--products", "200", "--categories", "20", "--seed", "1"],
                   check=True, stdout=subprocess.DEVNULL)
    return out


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def sync_seeds(example, workload, incremental):
    promos = example[STORE]["promotions"]
    holidays = example[STORE]["holidays"]
    # The example store in bodies of four promotions, one per type mix.
    for i in range(0, len(promos), 4):
        body = {STORE: {"promotions": promos[i:i + 4],
                        "holidays": holidays[:3] if i == 0 else None,
                        "sync_token": "tok-%d" % i,
                        "server_time": "2026-03-06T05:00:00Z"}}
        write("fuzz_sync_payload", "example-%02d.json" % (i // 4),
              json.dumps(body, indent=1, ensure_ascii=False))
    wpromos = workload[STORE]["promotions"]
    by_type = {}
    for p in wpromos:
        by_type.setdefault(p["promo_type"], p)
    body = {STORE: {"promotions": list(by_type.values()),
                    "holidays": workload[STORE]["holidays"][:2],
                    "sync_token": workload[STORE].get("sync_token")}}
    write("fuzz_sync_payload", "workload-types.json", compact(body))
    inc = {"updated": incremental["updated"][:3],
           "deleted": incremental["deleted"][:3],
           "sync_token": "tok-inc", "server_time": "2026-03-06T05:00:00Z"}
    write("fuzz_sync_payload", "incremental.json", json.dumps(inc, indent=1))
    odd = dict(promos[0])
    odd.update({"is_active": 1, "max_uses": None, "scope": None,
                "valid_days": None, "targeting": None, "extra_key": [1, {}],
                "name": "Kopi \u00e9 \"10\" \U0001F600"})
    write("fuzz_sync_payload", "odd-values.json",
          compact({"other-store": {}, STORE: {"promotions": [odd, 5, {}],
                                              "holidays": [{"date": "x"}]}}))
    write("fuzz_sync_payload", "escapes.json",
          '{"%s":{"promotions":[{"id":"a\\u0041\\ud83d\\ude00\\n",'
          '"rules":{ "type" : "percent" , "x":[ 1 , 2.5e3 , -0 , true ,'
          ' null ] }}]}}' % STORE)


def rules_record(p):
    flags = ""
    for key, letter in (("is_active", "a"), ("is_auto_apply", "u"),
                        ("require_voucher", "v"), ("member_only", "m"),
                        ("is_stackable", "s"), ("exclude_holidays", "h")):
        if p.get(key):
            flags += letter
    if not p.get("is_active", True):
        flags += "i"
    if p.get("max_uses") or p.get("max_uses_per_day"):
        flags += "l"

    def js(key):
        v = p.get(key)
        return "" if v is None else compact(v)

    fields = [p["promo_type"], js("rules"), js("scope"), js("targeting"),
              js("valid_days"), p["execution_stage"], p["start_date"],
              p["end_date"], p.get("time_start") or "",
              p.get("time_end") or "", flags, p["code"]]
    return SEP.join(fields)


def rules_seeds(example, workload):
    for p in example[STORE]["promotions"]:
        write("fuzz_rules_compile", "example-%s" % p["code"], rules_record(p))
    seen = set()
    for p in workload[STORE]["promotions"]:
        key = (p["promo_type"], p["execution_stage"])
        if key in seen:
            continue
        seen.add(key)
        write("fuzz_rules_compile", "workload-%s-%s" % key, rules_record(p))
    write("fuzz_rules_compile", "defaults", "")
    write("fuzz_rules_compile", "overnight",
          SEP.join(["percent_discount",
                    '{"type":"percent","discount_percent":17.5,'
                    '"max_discount_amount":5000}', "", "",
                    '["friday","saturday"]', "item_level", "2026-01-01",
                    "2026-12-31", "22:00:00", "02:00:00", "au", "MALAM"]))


def cart_seeds(carts_dir, workload_carts):
    for name in sorted(os.listdir(carts_dir)):
        with open(os.path.join(carts_dir, name), encoding="utf-8") as f:
            write("fuzz_cart", "example-" + name, f.read())
    for i, line in enumerate(workload_carts[:12]):
        write("fuzz_cart", "workload-%02d.json" % i, line)
    write("fuzz_cart", "edge-values.json", compact({
        "brand_id": 42, "at": "2026-03-06T23:59:59-05:30",
        "transaction_id": "t-1", "order_number": "o-1",
        "customer": {"id": "c1", "phone": "0812", "is_member": True,
                     "member_tier": "gold", "type": "member"},
        "voucher_codes": [" kopi10 ", "KOPI10", "NOPE"],
        "payment": {"method": "qris"},
        "lines": [{"line_id": "1", "product_id": "p", "category_id": None,
                   "quantity": 10000, "unit_price": 0.01},
                  {"line_id": 2, "product_id": "q", "quantity": 1,
                   "unit_price": 99999999.99}]}))


def http_request(method, path, body=None, token=TOKEN,
                 ctype="application/json"):
    text = "%s %s\n" % (method, path)
    if token:
        text += "Authorization: Bearer %s\n" % token
    if body is not None and ctype:
        text += "Content-Type: %s\n" % ctype
    text += "\n"
    if body is not None:
        text += body
    return text


def http_seeds(carts_dir):
    names = sorted(os.listdir(carts_dir))
    for name in names[:6]:
        with open(os.path.join(carts_dir, name), encoding="utf-8") as f:
            cart = json.load(f)
        write("fuzz_http", "evaluate-" + name,
              http_request("POST", "/v1/cart/evaluate", compact(cart)))
    with open(os.path.join(carts_dir, names[0]), encoding="utf-8") as f:
        cart = json.load(f)
    cart["transaction_id"] = "fuzz-txn-1"
    write("fuzz_http", "commit",
          http_request("POST", "/v1/transactions", compact(cart)))
    write("fuzz_http", "void",
          http_request("POST", "/v1/transactions/fuzz-txn-1/void",
                       '{"reason":"customer left"}'))
    brand = cart["brand_id"]
    gets = [
        "/v1/promotions/active?brand_id=%s&at=2026-03-06T12:00:00+07:00"
        % brand,
        "/v1/promotions?type=percent_discount&auto_apply=true",
        "/v1/promotions?code=kopi10",
        "/v1/promotions/KOPI10",
        "/v1/usage/d15c0000-0000-4000-8000-000000000001?customer_id=c%201",
        "/v1/sync/last", "/v1/sync/stats?days=30", "/healthz", "/metrics",
    ]
    for i, path in enumerate(gets):
        write("fuzz_http", "get-%02d" % i, http_request("GET", path))
    write("fuzz_http", "sync", http_request("POST", "/v1/sync",
                                            '{"type":"full"}'))
    write("fuzz_http", "bad-token",
          http_request("POST", "/v1/cart/evaluate", "{}", token="nope"))
    write("fuzz_http", "bad-type",
          http_request("POST", "/v1/cart/evaluate", "{}",
                       ctype="text/plain"))
    write("fuzz_http", "method", http_request("DELETE", "/v1/promotions"))
    write("fuzz_http", "no-route", http_request("GET", "/v2/nothing"))


def config_seeds():
    with open(os.path.join(ROOT, "examples", "edgepromo.conf")) as f:
        write("fuzz_config", "example.conf", f.read())
    write("fuzz_config", "every-key.conf", "\n".join([
        "db = sqlite:/var/lib/edgepromo/edge.db",
        "company_id = 812e76b6-f235-4bb2-948a-cae58ee62b97",
        "store_id = ee90b1f6-2ec2-4b46-8b4a-79d208b3c04c",
        "timezone = Asia/Jakarta", "cms_url = https://cms.example.co.id",
        "cms_token = secret-cms", "cms_ca_file = /etc/ssl/ca.pem",
        "listen = [::1]:8080",
        "api_tokens = aaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbb",
        "log_level = warn", "usage_synchronous = NORMAL",
        "sync_interval = 60", "full_sync_interval = 3600",
        "request_timeout = 5", "connect_timeout = 2", "threads = 8",
        "max_body_bytes = 65536", ""]))
    write("fuzz_config", "postgres.conf",
          "# shared by several nodes\n"
          "db=postgresql://edge:pw@db.local/edge?sslmode=require\n"
          "  listen =0.0.0.0:0  \n")
    write("fuzz_config", "bad.conf", "threads = 0x10\nnope\n=\n")


def main():
    wdir = workload_dir()
    example = load(os.path.join(ROOT, "examples", "full_sync.json"))
    workload = load(os.path.join(wdir, "full_sync.json"))
    incremental = load(os.path.join(wdir, "incremental.json"))
    with open(os.path.join(wdir, "carts.jsonl"), encoding="utf-8") as f:
        workload_carts = [line for line in f.read().splitlines() if line]
    os.makedirs(os.path.join(ROOT, "fuzz", "data"), exist_ok=True)
    with open(os.path.join(ROOT, "fuzz", "data", "workload_full_sync.json"),
              "w", encoding="utf-8") as f:
        f.write(compact(workload) + "\n")
    carts_dir = os.path.join(ROOT, "examples", "carts")
    sync_seeds(example, workload, incremental)
    rules_seeds(example, workload)
    cart_seeds(carts_dir, workload_carts)
    http_seeds(carts_dir)
    config_seeds()


if __name__ == "__main__":
    main()
