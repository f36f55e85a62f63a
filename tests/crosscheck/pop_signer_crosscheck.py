#!/usr/bin/env python3
"""Cross-check rocketmq_ons::auth::pop against Alibaba's own Python POP signer.

The reference is `aliyunsdkcore` (PyPI `aliyun-python-sdk-core`); this script imports it and
installs nothing. Set it up with, for example:

    python3 -m venv /tmp/aliyun-venv && /tmp/aliyun-venv/bin/pip install aliyun-python-sdk-core
    /tmp/aliyun-venv/bin/python tests/crosscheck/pop_signer_crosscheck.py

The Rust side is the example `core/examples/pop_sign.rs`: set POP_SIGN_BIN to a built binary,
or leave it unset and the script runs it through `cargo run` from the repository root.

Two kinds of case, both for HMAC-SHA1 and HMAC-SHA256 and for GET and POST:

* "params": random parameter sets signed as given. Python: the SDK's
  `rpc_signature_composer.__compose_string_to_sign` and, for HMAC-SHA1,
  `sha_hmac1.get_sign_string`. The SDK has no HMAC-SHA256 (its `sha_hmac256` module is
  SHA256withRSA for key-pair credentials), so HMAC-SHA256 cases use Python's `hmac` over the
  SDK-composed string. The string to sign and the signature must match byte for byte.
* "request": a whole call built by `PopRequest::sign` on the Rust side and by the SDK's
  `RpcRequest.get_url` on the Python side, with the SDK's clock and nonce helpers replaced by
  the same fixed values. The SDK also sends `SignatureType=` (empty), so the Rust call carries
  that as an API parameter. Compared: string to sign, signature, and the decoded parameter
  sets of both URLs.

Parameter names avoid U+E000..U+FFFF: Python sorts names by code point, Java (and our Rust)
by UTF-16 unit, and the two orders differ only when such a character meets one above U+FFFF.

Exit status 0 when everything matches, 1 on a mismatch, 2 when aliyunsdkcore is missing.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import random
import subprocess
import sys
import time
import types
from urllib.parse import parse_qsl

try:
    from aliyunsdkcore.auth.algorithm import sha_hmac1
    from aliyunsdkcore.auth.composer import rpc_signature_composer
    from aliyunsdkcore.request import RpcRequest
    from aliyunsdkcore.utils import parameter_helper
except ImportError as e:  # pragma: no cover - depends on the environment
    print(f"aliyunsdkcore is not importable ({e}); pip install aliyun-python-sdk-core",
          file=sys.stderr)
    sys.exit(2)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COMPOSE = getattr(rpc_signature_composer, "__compose_string_to_sign")

# Characters the encoder treats specially, plus multi-byte UTF-8 of every length.
SPECIAL = list(" *~+/-_.=&%:'\"!()?#[]@,;$<>{}|\\^`\t\n")
UNICODE = ["é", "ß", "中", "文", "ё", "\u00a0", "\u2028", "😀", "𝄞", "\U0010ffff"]
HIGH_BMP = ["\ufeff", "\uff21", "\ue000", "\ufffd"]  # values only, see the docstring
ASCII = [chr(c) for c in range(0x20, 0x7F)]
ALNUM = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
COMMON_NAMES = {
    "Action", "Product", "Version", "RegionId", "AccessKeyId", "Signature", "SignatureMethod",
    "SignatureVersion", "SignatureNonce", "Timestamp", "Format", "SecurityToken",
    "SignatureType",
}


def random_text(rng, max_len, allow_high_bmp):
    pools = [ALNUM, SPECIAL, UNICODE, ASCII] + ([HIGH_BMP] if allow_high_bmp else [])
    weights = [5, 3, 2, 2] + ([1] if allow_high_bmp else [])
    n = rng.randint(0, max_len)
    return "".join(rng.choice(rng.choices(pools, weights)[0]) for _ in range(n))


def random_params(rng):
    params = {}
    for _ in range(rng.randint(0, 12)):
        name = random_text(rng, 10, allow_high_bmp=False)
        if not name or name in COMMON_NAMES:
            name = "p" + name
        value = "" if rng.random() < 0.15 else random_text(rng, 24, allow_high_bmp=True)
        params[name] = value
    return params


def hmac_sha256_signer():
    """Stands in for a signer module: the shape rpc_signature_composer expects."""
    def get_sign_string(source, secret):
        digest = hmac.new(secret.encode("utf-8"), source.encode("utf-8"), hashlib.sha256).digest()
        return base64.b64encode(digest).decode("ascii")
    return types.SimpleNamespace(
        get_sign_string=get_sign_string,
        get_signer_name=lambda: "HMAC-SHA256",
        get_signer_version=lambda: "1.0",
        get_signer_type=lambda: "",
    )


SIGNERS = {"HMAC-SHA1": sha_hmac1, "HMAC-SHA256": hmac_sha256_signer()}


def python_params_case(case):
    sts = COMPOSE(case["http_method"], dict(case["params"]))
    signature = SIGNERS[case["signature_method"]].get_sign_string(sts, case["secret"] + "&")
    return {"string_to_sign": sts, "signature": signature}


def python_request_case(case):
    parameter_helper.get_iso_8061_date = lambda: time.strftime(
        parameter_helper.FORMAT_ISO_8601, time.gmtime(case["timestamp"]))
    parameter_helper.get_uuid = lambda: case["nonce"]
    request = RpcRequest(case["product"], case["version"], case["action"],
                         signer=SIGNERS[case["signature_method"]])
    request.set_accept_format("JSON")
    request.set_method(case["http_method"])
    for name, value in case["params"].items():
        if name != "SignatureType":  # the SDK adds it itself
            request.add_query_param(name, value)
    request.add_query_param("Product", case["product"])
    if case["security_token"] is not None:
        request.add_query_param("SecurityToken", case["security_token"])
    url = request.get_url(case["region_id"], case["access_key"], case["secret"])
    query = dict(parse_qsl(url.split("?", 1)[1], keep_blank_values=True, strict_parsing=False))
    return {"string_to_sign": request.string_to_sign, "signature": query["Signature"],
            "query": query}


def make_cases(rng, count):
    cases = []
    for i in range(count):
        for algorithm in ("HMAC-SHA1", "HMAC-SHA256"):
            method = rng.choice(["GET", "POST"])
            secret = random_text(rng, 20, allow_high_bmp=True)
            if i % 4 != 3:
                cases.append({"mode": "params", "http_method": method,
                              "signature_method": algorithm, "secret": secret,
                              "params": random_params(rng)})
            else:
                params = random_params(rng)
                params["SignatureType"] = ""
                cases.append({
                    "mode": "request", "http_method": method, "signature_method": algorithm,
                    "access_key": random_text(rng, 16, allow_high_bmp=True) or "ak",
                    "secret": secret,
                    "security_token": (random_text(rng, 30, allow_high_bmp=True)
                                       if rng.random() < 0.3 else None),
                    "product": rng.choice(["ascm", "Ons-inner", "prod uct*"]),
                    "action": rng.choice(["GetOrganizationList", "OnsTopicList", "A~b+c/d"]),
                    "version": rng.choice(["2019-05-10", "2018-02-05"]),
                    "region_id": rng.choice(["cn-region-test", "cn-hangzhou-d01", "r é"]),
                    # Up to the year 2200, to exercise the calendar too.
                    "timestamp": rng.randint(0, 7_258_118_400),
                    "nonce": random_text(rng, 40, allow_high_bmp=True) or "n",
                    "params": params,
                })
    return cases


def run_rust(cases):
    payload = "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases)
    binary = os.environ.get("POP_SIGN_BIN")
    cmd = [binary] if binary else ["cargo", "run", "-q", "-p", "rocketmq-ons", "--example",
                                   "pop_sign"]
    out = subprocess.run(cmd, input=payload.encode("utf-8"), stdout=subprocess.PIPE,
                         cwd=REPO, check=True).stdout.decode("utf-8")
    # Split on "\n" only: str.splitlines() would also split inside values at U+2028 etc.
    answers = [json.loads(line) for line in out.split("\n") if line]
    if len(answers) != len(cases):
        raise SystemExit(f"pop_sign answered {len(answers)} lines for {len(cases)} cases")
    return answers


def compare(case, rust):
    if "error" in rust:
        return f"rust error: {rust['error']}"
    if case["mode"] == "params":
        py = python_params_case(case)
    else:
        py = python_request_case(case)
        rust_query = dict(parse_qsl(rust["query_string"], keep_blank_values=True))
        if rust_query != py["query"]:
            return f"query differs:\n  rust   {rust_query}\n  python {py['query']}"
    if rust["string_to_sign"] != py["string_to_sign"]:
        return (f"string to sign differs:\n  rust   {rust['string_to_sign']}\n"
                f"  python {py['string_to_sign']}")
    if rust["signature"] != py["signature"]:
        return f"signature differs: rust {rust['signature']} python {py['signature']}"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000,
                        help="random cases per algorithm (default 1000)")
    parser.add_argument("--seed", type=int, default=20200915)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    cases = make_cases(rng, args.cases)
    answers = run_rust(cases)

    passed = failed = 0
    tally = {}
    for case, rust in zip(cases, answers):
        problem = compare(case, rust)
        key = (case["mode"], case["signature_method"])
        ok, bad = tally.get(key, (0, 0))
        if problem is None:
            passed += 1
            tally[key] = (ok + 1, bad)
        else:
            failed += 1
            tally[key] = (ok, bad + 1)
            if failed <= 5:
                print(f"MISMATCH {json.dumps(case, ensure_ascii=False)}\n  {problem}")
    for (mode, algorithm), (ok, bad) in sorted(tally.items()):
        print(f"{mode:8} {algorithm:12} {ok} matched, {bad} differ")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
