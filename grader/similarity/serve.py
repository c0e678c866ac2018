"""make similarity-report: serves Dolos's report to a web browser.

    python3 -m grader.similarity.serve OUT [--port 8000]

Dolos's viewer loads its data with HTTP requests, which browsers refuse to
pages opened as files: it needs a web server, even a local one. This one
answers only on this machine (localhost) and only with OUT/report/.
"""
import argparse
import functools
import http.server
import sys
from pathlib import Path


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m grader.similarity.serve")
    parser.add_argument("out", help="the OUT of make similarity")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    report = Path(args.out) / "report"
    if not (report / "index.html").is_file():
        print(f"make similarity-report: there is no report in {report}: run make similarity "
              "first (with the same OUT)", file=sys.stderr)
        return 2
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(report))
    try:
        server = http.server.ThreadingHTTPServer(("localhost", args.port), handler)
    except OSError as error:
        print(f"make similarity-report: cannot serve on localhost:{args.port}: {error}; "
              "choose another port with PORT=...", file=sys.stderr)
        return 2
    print(f"Dolos's report of {args.out}: open http://localhost:{args.port}/ in a browser. "
          "Ctrl-C stops.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
