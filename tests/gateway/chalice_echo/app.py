"""A Chalice WebSocket app exactly as Chalice's documentation writes one (nothing wsgate)."""

import boto3
from chalice import Chalice

app = Chalice(app_name="echo")
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.websocket_api.session = boto3.Session()


@app.on_ws_connect()
def connect(event):
    print(f"connected {event.connection_id}")


@app.on_ws_message()
def message(event):
    app.websocket_api.send(event.connection_id, "echo: " + event.body)


@app.on_ws_disconnect()
def disconnect(event):
    print(f"gone {event.connection_id}")
