"""The baseline: a Flask hello-world JSON endpoint, served with the same gunicorn settings as Yurt Geo."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/hello")
def hello():  # type: ignore[no-untyped-def]
    return jsonify(hello="world")
