"""WS-18: signs the release archive with the CI token (an HMAC), the way a pipeline would before
publishing. The token arrives as an environment variable through a plan secret reference; only
the signature is written. usage: sign.py <file>   — writes <file>.sig, prints {"signature"}."""
import hashlib
import hmac
import json
import os
import sys

token = os.environ.get("CI_TOKEN")
if not token:
    sys.exit("CI_TOKEN is not set (the plan maps it from the worker's SPARKY_CI_TOKEN)")
data = open(sys.argv[1], "rb").read()
signature = hmac.new(token.encode(), data, hashlib.sha256).hexdigest()
open(sys.argv[1] + ".sig", "w").write(signature + "\n")
print(json.dumps({"signature": signature[:16]}))
