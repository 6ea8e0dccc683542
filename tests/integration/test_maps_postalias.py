"""postalias through the installed binary: every aliases(5) form, the "@"
entry, bad lines, several tables at once (as newaliases runs it)."""
import os

import pytest

from conftest import SBIN, run

ALIASES = """# system aliases
Postmaster:   root
root:         admin@example.com,  other
multi:        a,
              b,
\tc
# a comment between entries
"Quoted Name": target
"with@sign": x
files:        /var/log/mail-copy
command:      |/usr/bin/procmail
spaced:       "|/usr/bin/prog with args"
include:      :include:/etc/postfix/list
backslash:    \\fred, joe
mixed:        Full Name <full@example.com>, x (comment)
"""


@pytest.fixture
def conf(tmp_path):
    (tmp_path / "main.cf").write_text("")
    return tmp_path


def postalias(conf, *args, check=True, **kwargs):
    return run([SBIN / "postalias", "-c", conf, *args], check=check, **kwargs)


@pytest.mark.parametrize("kind", ["hash", "btree", "lmdb", "cdb"])
def test_every_alias_form(install, conf, kind):
    src = conf / "aliases"
    src.write_text(ALIASES)
    result = postalias(conf, f"{kind}:{src}")
    assert result.stderr == ""
    expected = {
        "@": "@",
        "postmaster": "root",
        "root": "admin@example.com, other",
        "multi": "a, b, c",
        "quoted name": "target",
        "with@sign": "x",
        "files": "/var/log/mail-copy",
        "command": "|/usr/bin/procmail",
        "spaced": '"|/usr/bin/prog with args"',
        "include": ":include:/etc/postfix/list",
        "backslash": "fred, joe",
        "mixed": "Full Name <full@example.com>, x (comment)",
    }
    for key, value in expected.items():
        assert postalias(conf, "-q", key, f"{kind}:{src}").stdout == value + "\n"
    assert postalias(conf, "-q", "POSTMASTER", f"{kind}:{src}").stdout == "root\n"
    listed = postalias(conf, "-s", f"{kind}:{src}").stdout.splitlines()
    assert sorted(listed) == sorted(f"{k}:\t{v}" for k, v in expected.items())
    batch = postalias(conf, "-q", "-", f"{kind}:{src}", input="root\nnobody-here\n")
    assert batch.stdout == "root:\tadmin@example.com, other\n"


def test_bad_lines_are_skipped_with_file_and_line(install, conf):
    src = conf / "aliases"
    src.write_text("good: x\nno colon here\nuser@domain: y\nempty:\n: nokey\nlast: z\n")
    result = postalias(conf, f"hash:{src}")
    assert result.returncode == 0
    assert f"postalias: warning: {src}, line 2: need name:value pair" in result.stderr
    assert f"postalias: warning: {src}, line 3: name must be local" in result.stderr
    assert f"postalias: warning: {src}, line 4: need name:value pair" in result.stderr
    assert f"postalias: warning: {src}, line 5: need name:value pair" in result.stderr
    assert postalias(conf, "-q", "last", f"hash:{src}").stdout == "z\n"
    assert postalias(conf, "-q", "user@domain", f"hash:{src}", check=False).returncode == 1


def test_database_has_nul_terminated_entries(install, conf):
    src = conf / "aliases"
    src.write_text("root: admin\n")
    postalias(conf, f"hash:{src}")
    dump = run(["db5.3_dump", "-p", conf / "aliases.db"]).stdout
    assert " root\\00\n admin\\00\n" in dump
    assert " @\\00\n @\\00\n" in dump


def test_several_databases_at_once(install, conf):
    """newaliases runs postalias with every alias_database entry."""
    first = conf / "aliases"
    second = conf / "more-aliases"
    first.write_text("a: one\n")
    second.write_text("b: two\n")
    postalias(conf, f"hash:{first}", f"lmdb:{second}")
    assert postalias(conf, "-q", "a", f"hash:{first}").stdout == "one\n"
    assert postalias(conf, "-q", "b", f"lmdb:{second}").stdout == "two\n"
    assert postalias(conf, "-q", "b", f"hash:{first}", f"lmdb:{second}").stdout == "two\n"


def test_default_database_type_from_main_cf(install, conf):
    (conf / "main.cf").write_text("default_database_type = btree\n")
    src = conf / "aliases"
    src.write_text("x: y\n")
    postalias(conf, src)
    assert "type=btree" in run(["db5.3_dump", "-p", conf / "aliases.db"]).stdout


def test_incremental_keeps_the_sentinel_quiet(install, conf):
    src = conf / "aliases"
    src.write_text("a: one\n")
    postalias(conf, f"hash:{src}")
    result = postalias(conf, "-i", f"hash:{src}", input="b: two\n")
    assert result.stderr == ""
    assert postalias(conf, "-q", "b", f"hash:{src}").stdout == "two\n"
    assert postalias(conf, "-q", "@", f"hash:{src}").stdout == "@\n"


def test_missing_source_is_fatal(install, conf):
    result = postalias(conf, f"hash:{conf}/nonexistent", check=False)
    assert result.returncode == 1
    assert f"postalias: fatal: open {conf}/nonexistent: No such file or directory" \
        in result.stderr
    assert not os.path.exists(f"{conf}/nonexistent.db")
