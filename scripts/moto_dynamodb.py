#!/usr/bin/env python3
"""moto's server for the tests, with DynamoDB's atomicity.

DynamoDB applies each write to an item atomically: of two conditional updates racing on one
item, the second sees the first. moto's own server (`moto_server`) handles requests on many
threads and checks a condition and applies the update as separate steps, so under concurrency two
conditional writes can both pass — a race real DynamoDB never has, which would make the
concurrency tests (one SMS for fifty Creates, three answers per code) fail for the stand-in's
sake, or pass for the wrong reason. This runs moto's own WSGI application behind one lock:
requests are served one at a time, so each conditional write is atomic as in DynamoDB.

Usage: moto_dynamodb.py -H 127.0.0.1 -p PORT
"""

import argparse
import os
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialized(environ, start_response):
        # The whole request, the body included, under the lock.
        with lock:
            return [b"".join(app(environ, start_response))]

    run_simple(args.host, args.port, serialized, threaded=True)


if __name__ == "__main__":
    main()
