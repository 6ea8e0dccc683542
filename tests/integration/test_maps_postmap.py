"""postmap through the installed binary: build, query, list, delete, update,
errors, file formats readable by Berkeley DB's own tools, and replacing a
table while a reader holds it open."""
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from conftest import SBIN, run

DATABASE_TYPES = ["hash", "btree", "lmdb", "cdb"]
SUFFIX = {"hash": ".db", "btree": ".db", "lmdb": ".lmdb", "cdb": ".cdb"}

SOURCE = """# a comment
Key1      value one
key2\tvalue two
  continued
"quoted key" quoted value
user@example.com   OK
"""


@pytest.fixture
def conf(tmp_path):
    """A configuration directory with an empty main.cf."""
    (tmp_path / "main.cf").write_text("")
    return tmp_path


def postmap(conf, *args, check=True, **kwargs):
    return run([SBIN / "postmap", "-c", conf, *args], check=check, **kwargs)


def write(path, text, mode=0o644):
    path.write_text(text)
    os.chmod(path, mode)
    return path


@pytest.mark.parametrize("kind", DATABASE_TYPES)
def test_build_then_query_round_trip(install, conf, kind):
    src = write(conf / f"table-{kind}", SOURCE)
    result = postmap(conf, f"{kind}:{src}")
    assert result.returncode == 0 and result.stderr == ""
    assert (conf / f"table-{kind}{SUFFIX[kind]}").exists()
    assert postmap(conf, "-q", "KEY1", f"{kind}:{src}").stdout == "value one\n"
    assert postmap(conf, "-q", "key2", f"{kind}:{src}").stdout == "value two  continued\n"
    assert postmap(conf, "-q", '"quoted key"', f"{kind}:{src}").stdout == "quoted value\n"
    missing = postmap(conf, "-q", "nokey", f"{kind}:{src}", check=False)
    assert missing.returncode == 1 and missing.stdout == ""
    batch = postmap(conf, "-q", "-", f"{kind}:{src}",
                    input="key1\nnokey\nUSER@EXAMPLE.COM\n")
    assert batch.stdout == "key1\tvalue one\nUSER@EXAMPLE.COM\tOK\n"
    dump = postmap(conf, "-s", f"{kind}:{src}").stdout.splitlines()
    assert sorted(dump) == sorted(["key1\tvalue one", "key2\tvalue two  continued",
                                   '"quoted key"\tquoted value', "user@example.com\tOK"])


def test_default_type_is_hash(install, conf):
    src = write(conf / "plain", "a 1\n")
    postmap(conf, src)
    assert (conf / "plain.db").exists()
    assert postmap(conf, "-q", "a", src).stdout == "1\n"


@pytest.mark.parametrize("kind", ["hash", "btree"])
def test_berkeley_db_files_are_real_berkeley_db(install, conf, kind):
    src = write(conf / f"bdb-{kind}", "Alpha one\nbeta two\n")
    postmap(conf, f"{kind}:{src}")
    dump = run(["db5.3_dump", "-p", conf / f"bdb-{kind}.db"]).stdout
    assert f"type={kind}" in dump
    assert " alpha\\00\n one\\00\n" in dump          # keys and values with their NUL
    postmap(conf, "-n", f"{kind}:{src}")
    dump = run(["db5.3_dump", "-p", conf / f"bdb-{kind}.db"]).stdout
    assert " alpha\n one\n" in dump
    assert postmap(conf, "-q", "alpha", f"{kind}:{src}").stdout == "one\n"


def test_malformed_lines_name_file_and_line(install, conf):
    src = write(conf / "bad", "good 1\nnovalue\nalias: form\n\"open quote x\n"
                              " orphan\nlast 2\n")
    # " orphan" continues line 4, which stays unbalanced
    result = postmap(conf, f"hash:{src}")
    assert result.returncode == 0
    assert f"postmap: warning: {src}, line 2: expected format: key whitespace value" \
        in result.stderr
    assert f"postmap: warning: {src}, line 3: record is in \"key: value\" format" \
        in result.stderr
    assert f"postmap: warning: {src}, line 4: unbalanced '\"'" in result.stderr
    assert postmap(conf, "-q", "last", f"hash:{src}").stdout == "2\n"
    assert postmap(conf, "-q", "alias:", f"hash:{src}").stdout == "form\n"


def test_orphan_continuation_at_start(install, conf):
    src = write(conf / "orphan", "  orphan x\nk v\n")
    result = postmap(conf, f"hash:{src}")
    assert f"{src}, line 1: logical line must not start with whitespace" in result.stderr
    assert postmap(conf, "-s", f"hash:{src}").stdout == "k\tv\n"


def test_duplicates_warn_replace_or_ignore(install, conf):
    src = write(conf / "dups", "a first\nA second\n")
    result = postmap(conf, f"hash:{src}")
    assert f'postmap: warning: {src}.db: duplicate entry: "a"' in result.stderr
    assert postmap(conf, "-q", "a", f"hash:{src}").stdout == "first\n"
    result = postmap(conf, "-r", f"hash:{src}")
    assert result.stderr == ""
    assert postmap(conf, "-q", "a", f"hash:{src}").stdout == "second\n"
    result = postmap(conf, "-w", f"hash:{src}")
    assert result.stderr == ""
    assert postmap(conf, "-q", "a", f"hash:{src}").stdout == "first\n"
    postmap(conf, "-f", f"hash:{src}")
    assert postmap(conf, "-f", "-q", "A", f"hash:{src}").stdout == "second\n"
    assert postmap(conf, "-f", "-q", "a", f"hash:{src}").stdout == "first\n"


def test_several_tables_are_searched_in_order(install, conf):
    one = write(conf / "one", "a from-one\n")
    two = write(conf / "two", "a from-two\nb from-two\n")
    postmap(conf, f"hash:{one}", f"cdb:{two}")
    assert postmap(conf, "-q", "a", f"hash:{one}", f"cdb:{two}").stdout == "from-one\n"
    assert postmap(conf, "-q", "b", f"hash:{one}", f"cdb:{two}").stdout == "from-two\n"


def test_delete_and_incremental_update(install, conf):
    src = write(conf / "upd", "a 1\nb 2\nc 3\n")
    postmap(conf, f"hash:{src}")
    assert postmap(conf, "-d", "a", f"hash:{src}").returncode == 0
    assert postmap(conf, "-d", "a", f"hash:{src}", check=False).returncode == 1
    deleted = postmap(conf, "-d", "-", f"hash:{src}", input="b\nzz\n")
    assert deleted.returncode == 0
    postmap(conf, "-i", f"hash:{src}", input="d 4\nc replaced\n")
    assert postmap(conf, "-s", f"hash:{src}").stdout.splitlines() in (
        ["c\t3", "d\t4"], ["d\t4", "c\t3"])
    postmap(conf, "-i", f"lmdb:{conf / 'fresh'}", input="new entry\n")
    assert postmap(conf, "-q", "new", f"lmdb:{conf / 'fresh'}").stdout == "entry\n"


def test_text_tables_can_be_queried(install, conf):
    regexp = write(conf / "re", "/^(.*)@example\\.com$/ user $1\n")
    cidr = write(conf / "ci", "2001:db8::/32 v6\n10.0.0.0/8 v4\n")
    assert postmap(conf, "-q", "joe@example.com", f"regexp:{regexp}").stdout == "user joe\n"
    assert postmap(conf, "-q", "joe@example.com", f"pcre:{regexp}").stdout == "user joe\n"
    assert postmap(conf, "-q", "2001:db8::5", f"cidr:{cidr}").stdout == "v6\n"
    assert postmap(conf, "-q", "x", "inline:{x=y}").stdout == "y\n"
    assert postmap(conf, "-q", "x", "static:fixed").stdout == "fixed\n"
    assert postmap(conf, "-q", "root", "unix:passwd.byname").stdout.startswith("root:")
    assert postmap(conf, "-s", f"texthash:{write(conf / 'th', 'k v')}").stdout == "k\tv\n"


def test_errors_are_fatal_with_clear_messages(install, conf):
    cases = [
        (["hash:/nonexistent/source"],
         "postmap: fatal: open /nonexistent/source: No such file or directory"),
        (["-q", "k", f"hash:{conf}/missing"],
         f"postmap: fatal: open database {conf}/missing.db: No such file or directory"),
        (["-q", "k", "nosuch:/x"], "postmap: fatal: unsupported dictionary type: nosuch"),
        (["regexp:/x"], "postmap: fatal: unsupported dictionary type: regexp does not "
                        "support bulk-mode creation."),
        (["-q", "k", "fail:test"], "postmap: fatal: table fail:test: query error"),
        (["-s", "static:x"], "sequence operation is not supported"),
        (["-q", "k", "-s", "hash:x"], "postmap: fatal: specify only one of -s -q or -d"),
        ([], "postmap: fatal: usage: postmap"),
        (["-Z", "hash:x"], "postmap: fatal: usage: postmap"),
    ]
    for args, message in cases:
        result = postmap(conf, *args, check=False)
        assert result.returncode == 1, args
        assert message in result.stderr, (args, result.stderr)


def test_broken_regexp_table_fails_the_query(install, conf):
    regexp = write(conf / "broken.re", "/ok/ 1\n/[/ bad\n")
    result = postmap(conf, "-q", "ok", f"regexp:{regexp}", check=False)
    assert result.returncode == 1
    assert f"regexp map {regexp}, line 2:" in result.stderr


def test_file_mode_follows_the_source(install, conf):
    src = write(conf / "perm", "a 1\n", mode=0o640)
    postmap(conf, f"hash:{src}")
    assert (conf / "perm.db").stat().st_mode & 0o7777 == 0o640
    os.unlink(conf / "perm.db")
    postmap(conf, "-p", f"hash:{src}")
    assert (conf / "perm.db").stat().st_mode & 0o7777 == 0o644


def test_build_runs_as_the_source_owner(install):
    """As root, postmap builds as the owner of the source file unless -o."""
    workdir = Path(tempfile.mkdtemp(prefix="postern-owner-"))
    try:
        os.chmod(workdir, 0o777)
        (workdir / "main.cf").write_text("")
        src = write(workdir / "owned", "a 1\n")
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(src, nobody.pw_uid, nobody.pw_gid)
            expected = nobody.pw_uid
        else:
            expected = os.geteuid()
        postmap(workdir, f"hash:{src}")
        assert (workdir / "owned.db").stat().st_uid == expected
        os.unlink(workdir / "owned.db")
        postmap(workdir, "-o", f"hash:{src}")
        assert (workdir / "owned.db").stat().st_uid == os.geteuid()
    finally:
        shutil.rmtree(workdir)


@pytest.mark.parametrize("kind", DATABASE_TYPES)
def test_replacing_a_table_under_an_open_reader(install, conf, kind):
    """A reader holding the table open sees the old or the new table while
    postmap replaces it, never an error or a missing key."""
    src = conf / f"live-{kind}"
    write(src, "key old\n")
    postmap(conf, f"{kind}:{src}")
    reader = subprocess.Popen(
        [str(SBIN / "postmap"), "-c", str(conf), "-q", "-", f"{kind}:{src}", "static:MISSING"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stop = threading.Event()
    rebuilds = [0]

    def rebuild():
        while not stop.is_set():
            write(src, "key new\n" if rebuilds[0] % 2 == 0 else "key old\n")
            postmap(conf, f"{kind}:{src}")
            rebuilds[0] += 1

    writer = threading.Thread(target=rebuild)
    writer.start()
    answers = set()
    queries = 0
    try:
        while queries < 300 or rebuilds[0] < 20:
            reader.stdin.write("key\n")
            reader.stdin.flush()
            line = reader.stdout.readline()
            assert line in ("key\told\n", "key\tnew\n"), (line, reader.stderr.read())
            answers.add(line)
            queries += 1
    finally:
        stop.set()
        writer.join()
        reader.stdin.close()
        reader.wait(timeout=10)
    assert reader.returncode == 0
    assert answers == {"key\told\n", "key\tnew\n"}
