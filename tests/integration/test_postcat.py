"""postcat through the installed binary, on files and on queue IDs."""
from conftest import SBIN, run
from queuefile import queue_file

POSTCAT = SBIN / "postcat"


def message():
    return queue_file("alice@example.org", ["bob@example.test"],
                      ["Subject: hello", "From: alice@example.org"], ["line one", "line two"],
                      attributes=[("client_address", "192.0.2.1")],
                      extracted_recipients=["carol@example.test"])


def config(tmp_path, queue_dir=None):
    (tmp_path / "main.cf").write_text(f"queue_directory = {queue_dir or tmp_path}\n")
    return tmp_path


def test_full_listing(install, tmp_path):
    path = tmp_path / "msg"
    path.write_bytes(message())
    out = run([POSTCAT, "-c", config(tmp_path), path]).stdout.splitlines()
    assert out[0] == f"*** ENVELOPE RECORDS {path} ***"
    assert out[1].startswith("message_size: ")
    assert out[2].startswith("message_arrival_time: ")
    assert out[3:7] == ["named_attribute: client_address=192.0.2.1",
                        "sender: alice@example.org", "recipient: bob@example.test",
                        f"*** MESSAGE CONTENTS {path} ***"]
    assert out[7:12] == ["Subject: hello", "From: alice@example.org", "", "line one",
                         "line two"]
    assert out[12:] == [f"*** HEADER EXTRACTED {path} ***", "recipient: carol@example.test",
                        f"*** MESSAGE FILE END {path} ***"]


def test_sections(install, tmp_path):
    path = tmp_path / "msg"
    path.write_bytes(message())
    cfg = config(tmp_path)
    assert run([POSTCAT, "-c", cfg, "-h", path]).stdout == \
        "Subject: hello\nFrom: alice@example.org\n"
    assert run([POSTCAT, "-c", cfg, "-b", path]).stdout == "\nline one\nline two\n"
    env = run([POSTCAT, "-c", cfg, "-e", path]).stdout
    assert "recipient: bob@example.test" in env and "line one" not in env


def test_queue_id_lookup_in_hashed_queue(install, tmp_path):
    queue = tmp_path / "spool"
    (queue / "deferred" / "A").mkdir(parents=True)
    (queue / "deferred" / "A" / "A1B2C3D4").write_bytes(message())
    cfg = config(tmp_path, queue)
    out = run([POSTCAT, "-c", cfg, "-q", "A1B2C3D4"]).stdout
    assert out.startswith("*** ENVELOPE RECORDS deferred/A/A1B2C3D4 ***\n")
    result = run([POSTCAT, "-c", cfg, "-q", "FFFFFF"], check=False)
    assert result.returncode == 1
    assert "no message found with queue id FFFFFF" in result.stderr
    result = run([POSTCAT, "-c", cfg, "-q", "../../etc/passwd"], check=False)
    assert result.returncode == 1 and "bad queue id" in result.stderr


def test_damaged_file_shown_up_to_the_damage(install, tmp_path):
    data = message()
    path = tmp_path / "truncated"
    path.write_bytes(data[:len(data) - 30])
    result = run([POSTCAT, "-c", config(tmp_path), path], check=False)
    assert result.returncode == 1
    assert "sender: alice@example.org" in result.stdout
    assert f"postcat: warning: {path}: truncated record at offset" in result.stderr
    path.write_bytes(b"\x00garbage")
    result = run([POSTCAT, "-c", config(tmp_path), path], check=False)
    assert result.returncode == 1 and "bad record type at offset 0" in result.stderr


def test_standard_input(install, tmp_path):
    result = run([POSTCAT, "-c", config(tmp_path), "-h"], input=message().decode())
    assert result.stdout == "Subject: hello\nFrom: alice@example.org\n"
