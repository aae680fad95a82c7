"""The embedded default's broker: a folder of files that several processes share."""

import pytest
from kombu import Connection

from linli.ops.jobs_broker import SCHEME


def connection(folder) -> Connection:
    return Connection(f"{SCHEME}://", transport_options={"folder": str(folder)})


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "broker"


def test_messages_arrive_once_in_the_order_sent_and_half_written_files_are_left_alone(folder):
    with connection(folder) as producer:
        queue = producer.SimpleQueue("linli-test")
        for number in range(3):
            queue.put({"number": number})
        queue.close()
    # A message still being written (another process, mid-write) is not a message yet.
    (folder / "queue" / ".abc.partial").write_bytes(b'{"half')
    received = []
    with connection(folder) as first, connection(folder) as second:
        queues = [first.SimpleQueue("linli-test"), second.SimpleQueue("linli-test")]
        for number in range(3):
            message = queues[number % 2].get(timeout=2)
            received.append(message.payload["number"])
            message.ack()
        for queue in queues:
            with pytest.raises(queue.Empty):
                queue.get(timeout=0.2)
            queue.close()
    assert received == [0, 1, 2]
    assert sorted(path.name for path in (folder / "queue").iterdir()) == [".abc.partial"]
    assert list((folder / "claimed").iterdir()) == []
    assert (folder / "queue").stat().st_mode & 0o777 == 0o700
