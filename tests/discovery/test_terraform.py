"""Terraform detector: the HCL scanner, backends, providers merged per folder, modules, JSON syntax, bad input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator_kit.discovery import terraform
from orchestrator_kit.discovery.terraform import parse_hcl
from tests.conftest import run_detectors

from .conftest import scanner

VERSIONS = """\
terraform {
  required_version = ">= 1.5"

  backend "s3" {
    bucket         = "acme-tf-state" # comment with a } brace
    key            = "prod/network.tfstate"
    region         = "eu-west-1"
    dynamodb_table = "tf-locks"
    encrypt        = true
    access_key     = "AKIAIOSFODNN7EXAMPLE"
  }

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.40"
    }
    cloudflare = {
      source = "cloudflare/cloudflare"
    }
  }
}
"""

PROVIDERS = """\
// default region
provider "aws" {
  region = var.region
}

/* a second
   account { with braces } */
provider "aws" {
  alias  = "us"
  region = "us-east-1"
}
"""

MAIN = """\
resource "aws_instance" "web" {
  ami           = data.aws_ami.ubuntu.id
  instance_type = "t3.micro"
  user_data     = <<-EOT
    #!/bin/bash
    echo "} not a brace" {
    resource "fake" "inside_heredoc" {
  EOT
  tags = {
    Name  = "web-${var.env}"
    Query = "${jsonencode({ a = "}" })}"
    Cost  = "$${not_interpolated}"
  }
}

data "aws_ami" "ubuntu" {
  provider    = aws.us
  most_recent = true
}

resource "cloudflare_record" "www" { name = "www" }

resource "random_id" "suffix" {
  byte_length = 4
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.5.1"
  count   = var.create ? 1 : 0
}

module "local" {
  source = "./modules/local"
}
"""

scan = scanner("terraform")


def items(inventory, kind):
    return {item.name: item for item in inventory.infrastructure if item.kind == kind}


def span(item):
    return (item.evidence.path, item.evidence.line_start, item.evidence.line_end)


def test_folder_is_merged(make_repo):
    inventory = scan(make_repo, {
        "infra/versions.tf": VERSIONS,
        "infra/providers.tf": PROVIDERS,
        "infra/main.tf": MAIN,
    })
    assert inventory.diagnostics == []

    [backend] = items(inventory, "terraform-backend").values()
    assert backend.name == "s3"
    assert backend.attributes == {
        "bucket": "acme-tf-state",
        "key": "prod/network.tfstate",
        "region": "eu-west-1",
        "dynamodb_table": "tf-locks",
        "encrypt": "true",
        "access_key": "[REDACTED]",
        "directory": "infra",
    }
    assert span(backend) == ("infra/versions.tf", 4, 11)

    providers = items(inventory, "terraform-provider")
    assert set(providers) == {"aws", "cloudflare", "random"}
    aws = providers["aws"]
    assert aws.attributes == {
        "directory": "infra",
        "source": "hashicorp/aws",
        "version": ["~> 5.40"],
        "regions": ["var.region", "us-east-1"],
        "aliases": ["us"],
        "resources": "1",
        "data_sources": "1",  # via `provider = aws.us`
        "declared_at": ["infra/providers.tf:2", "infra/providers.tf:8", "infra/versions.tf:14"],
    }
    # required_providers is the best evidence, wherever it sits in the file order.
    assert span(aws) == ("infra/versions.tf", 14, 17)
    assert providers["cloudflare"].attributes["source"] == "cloudflare/cloudflare"
    assert providers["cloudflare"].attributes["resources"] == "1"
    assert span(providers["cloudflare"]) == ("infra/versions.tf", 18, 20)
    # random is never declared: Terraform assumes hashicorp/random; the evidence is its first resource.
    assert providers["random"].attributes["source"] == "hashicorp/random (implied)"
    assert span(providers["random"]) == ("infra/main.tf", 23, 25)

    modules = items(inventory, "terraform-module")
    assert modules["vpc"].attributes == {
        "directory": "infra",
        "source": "terraform-aws-modules/vpc/aws",
        "version": "5.5.1",
        "count": "var.create ? 1 : 0",
    }
    assert span(modules["vpc"]) == ("infra/main.tf", 27, 31)
    assert modules["local"].attributes == {"directory": "infra", "source": "./modules/local"}
    assert span(modules["local"]) == ("infra/main.tf", 33, 35)


def test_folders_are_separate(make_repo):
    inventory = scan(make_repo, {
        "envs/dev/main.tf": 'provider "aws" {\n  region = "eu-west-1"\n}\nresource "aws_s3_bucket" "a" {}\n',
        "envs/prod/main.tf": 'provider "aws" {\n  region = "us-east-1"\n}\n',
        "envs/prod/more.tf": 'resource "aws_s3_bucket" "a" {}\nresource "aws_s3_bucket" "b" {}\n',
    })
    providers = [i for i in inventory.infrastructure if i.kind == "terraform-provider"]
    got = {(p.attributes["directory"], p.attributes["regions"][0], p.attributes["resources"]) for p in providers}
    assert got == {("envs/dev", "eu-west-1", "1"), ("envs/prod", "us-east-1", "2")}
    assert inventory.files_read == 3  # each file read once, though a folder is read when its first file comes


def test_cloud_block_and_partial_backend(make_repo):
    cloud = """\
    terraform {
      cloud {
        organization = "acme"
        hostname     = "app.terraform.io"
        token        = "abcdefghijklmnop.atlasv1.qrstuvwxyz0123456789"
        workspaces {
          tags = ["networking", "prod"]
        }
      }
    }
    """
    inventory = scan(make_repo, {
        "cloud/main.tf": cloud,
        "partial/backend.tf": 'terraform {\n  backend "gcs" {}\n}\n',
    })
    backends = items(inventory, "terraform-backend")
    assert backends["cloud"].attributes == {
        "organization": "acme",
        "hostname": "app.terraform.io",
        "token": "[REDACTED]",
        "workspaces.tags": '["networking", "prod"]',
        "directory": "cloud",
    }
    assert span(backends["cloud"]) == ("cloud/main.tf", 2, 9)
    assert backends["gcs"].attributes == {
        "directory": "partial",
        "configuration": "partial (completed by terraform init -backend-config)",
    }
    assert span(backends["gcs"]) == ("partial/backend.tf", 2, 2)


def test_legacy_required_providers_and_one_line_blocks(make_repo):
    text = (
        'terraform {\n  required_providers {\n    google = "~> 4.0"\n  }\n}\n'
        'variable "project" { default = "x" }\n'
        'resource "google_storage_bucket" "b" { name = "b" }\n'
    )
    [google] = scan(make_repo, {"main.tf": text}).infrastructure
    assert google.name == "google"
    assert google.attributes["version"] == ["~> 4.0"]
    assert google.attributes["source"] == "hashicorp/google (implied)"
    assert google.attributes["resources"] == "1"
    assert google.attributes["directory"] == "."
    assert span(google) == ("main.tf", 3, 3)


def test_tf_json(make_repo):
    text = """\
    {
      "terraform": {
        "backend": {"s3": {"bucket": "json-state", "secret_key": "x"}},
        "required_providers": {"aws": {"source": "hashicorp/aws", "version": ">= 5"}}
      },
      "provider": {"aws": [{"region": "eu-west-1"}, {"alias": "b", "region": "us-east-1"}]},
      "resource": {"aws_s3_bucket": {"logs": {"bucket": "logs"}}},
      "module": {"net": {"source": "./net"}}
    }
    """
    inventory = scan(make_repo, {"main.tf.json": text})
    assert items(inventory, "terraform-backend")["s3"].attributes == {
        "bucket": "json-state", "secret_key": "[REDACTED]", "directory": "."}
    aws = items(inventory, "terraform-provider")["aws"]
    assert aws.attributes["regions"] == ["eu-west-1", "us-east-1"]
    assert aws.attributes["aliases"] == ["b"]
    assert aws.attributes["resources"] == "1"
    assert aws.evidence.line_start == 4  # the line where "aws" is first written
    assert items(inventory, "terraform-module")["net"].attributes["source"] == "./net"


def test_module_source_with_credentials_is_redacted(make_repo):
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    text = f'module "m" {{\n  source = "git::https://bot:{token}@github.com/acme/m.git?ref=v1"\n}}\n'
    [module] = scan(make_repo, {"main.tf": text}).infrastructure
    assert token not in module.attributes["source"]
    assert module.attributes["source"].startswith("git::https://")


@pytest.mark.parametrize(
    ("text", "reason", "line"),
    [
        ('resource "a_b" "c" {\n  x = 1\n', "block 'resource a_b c' is never closed", 1),
        ("}\n", "unexpected '}'", 1),
        ('locals {\n  a = "unterminated\n}\n', "string is not closed on its line", 2),
        ("locals {\n  a = <<EOF\nnever closed\n", "heredoc <<EOF is never closed", 2),
        ("/* comment\nnever closed\n", "comment /* is never closed", 1),
        ('module "nosrc" {\n  version = "1"\n}\n', "module 'nosrc' has no source", 1),
        ("locals {\n  just_a_word\n}\n", "'just_a_word' is neither an argument", 2),
        ('"stray string"\n', "unexpected 'stray string'", 1),
        ("locals {\n  skip_credentials_validation = true\n", "block 'locals' is never closed", 1),
    ],
)
def test_bad_hcl(make_repo, text, reason, line):
    inventory = scan(make_repo, {"main.tf": text})
    assert any(reason in d.reason and d.line == line for d in inventory.diagnostics), inventory.diagnostics


@pytest.mark.parametrize(
    "text", ["{", "[1, 2]", '{"terraform": 3, "provider": ["x"], "resource": {"t": 1}}'],
)
def test_bad_tf_json(make_repo, text):
    inventory = scan(make_repo, {"main.tf.json": text})
    assert inventory.infrastructure == []


def test_empty_and_skipped_files(make_repo):
    inventory = scan(make_repo, {
        "empty/main.tf": "",
        ".terraform/modules/vpc/main.tf": 'provider "aws" {}\n',
        "vendor/x/main.tf": 'provider "aws" {}\n',
        "notes/main.tfvars": 'region = "x"\n',
    })
    assert inventory.infrastructure == []
    assert inventory.diagnostics == []


def test_pathological_nesting(make_repo):
    deep_blocks = "a {\n" * 5000 + "}\n" * 5000
    deep_template = 'locals {\n  x = "' + "${f(\"" * 3000 + "\")}" * 3000 + '"\n}\n'
    deep_json = '{"module": ' + "[" * 100000 + "]" * 100000 + "}"
    inventory = scan(make_repo, {
        "blocks/main.tf": deep_blocks,
        "template/main.tf": deep_template + 'module "after" {\n  source = "./m"\n}\n',
        "json/main.tf.json": deep_json,
    })
    reasons = {d.path: d.reason for d in inventory.diagnostics}
    assert [d.line for d in inventory.diagnostics if d.path == "blocks/main.tf"] == [65]
    assert "nested deeper than 64 levels" in reasons["blocks/main.tf"]
    assert "nesting too deep" in reasons["json/main.tf.json"]
    assert "template/main.tf" not in reasons
    # The scanner found the end of the deep template: the module after it is read, on its line.
    [module] = [i for i in inventory.infrastructure if i.kind == "terraform-module"]
    assert span(module) == ("template/main.tf", 4, 6)


def test_nested_strings_in_templates():
    text = 'locals {\n  a = "${format("%s}", "$${x}")}"\n  b = "${x ? "{" : "}"}"\n  c = 1\n}\n'
    [block], problems = parse_hcl(text)
    assert problems == []
    assert set(block.attributes) == {"a", "b", "c"}
    assert block.attributes["c"].line == 4
    assert block.end == 5


def test_scanner_structure():
    blocks, problems = parse_hcl(MAIN)
    assert problems == []
    assert [(b.type, b.labels, b.start, b.end) for b in blocks] == [
        ("resource", ["aws_instance", "web"], 1, 14),
        ("data", ["aws_ami", "ubuntu"], 16, 19),
        ("resource", ["cloudflare_record", "www"], 21, 21),
        ("resource", ["random_id", "suffix"], 23, 25),
        ("module", ["vpc"], 27, 31),
        ("module", ["local"], 33, 35),
    ]
    web = blocks[0]
    assert web.attributes["user_data"].line == 4
    assert web.attributes["user_data"].end == 8
    tags = web.attributes["tags"].items
    assert tags is not None
    assert tags["Name"].text == "web-${var.env}"
    assert tags["Name"].literal is False
    assert tags["Cost"].text == "${not_interpolated}"
    assert tags["Cost"].literal is True
    assert tags["Query"].literal is False

@pytest.mark.parametrize(
    ("source", "text", "literal"),
    [
        ('"plain"', "plain", True),
        ('"a\\"b\\\\c\\nd\\q"', 'a"b\\c\nd\\q', True),  # escapes; an unknown one is kept as written
        ('"5$ or 5% and $x %y"', "5$ or 5% and $x %y", True),  # a lone $ or % is itself
        ('"$${not} %%{not}"', "${not} %{not}", True),  # escaped template openers are literal text
        ('"run ${var.x} at 100% $"', "run ${var.x} at 100% $", False),  # a template keeps its text as written
        ('"a\\"${x}\\"b"', 'a\\"${x}\\"b', False),
    ],
)
def test_quoted_strings(source, text, literal):
    [block], problems = parse_hcl(f"locals {{\n  v = {source}\n  w = 1\n}}\n")
    assert problems == []
    value = block.attributes["v"]
    assert (value.text, value.literal, value.line) == (text, literal, 2)
    assert block.attributes["w"].line == 3


FRAGMENTS = ['terraform {', 'backend "s3" {', "}", "{", '"', 'a = "${b}"', "<<EOF", "<<-EOF", "EOF", "/*", "*/",
             "#", "//", "required_providers {", "aws = { source = \"x\" }", 'provider "aws" {', "region = 1",
             'module "m" {', "source = ./x", 'resource "a_b" "c" {', "provider = ", "[", "]", "(", ")", ",",
             '"${"', "$${", "%{ if x }", "=", ":", "\\"]


@given(parts=st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=30),
       joiners=st.lists(st.sampled_from([" ", "\n", ""]), min_size=30, max_size=30))
def test_scanner_never_raises(parts, joiners):
    text = "".join(part + joiner for part, joiner in zip(parts, joiners, strict=False))
    blocks, problems = parse_hcl(text)
    for block in blocks:
        assert 1 <= block.start <= block.end <= text.count("\n") + 1
    assert all(line >= 1 for line, _ in problems)


@pytest.mark.parametrize(
    "text",
    [
        'variable "région" {\n  default = "eu"\n}\nlocals {\n  étiquette = var.région\n}\n',
        'locals {\n  名前 = "x"\n  ключ-2 = local.名前\n}\n',
        'locals {\n  doc = <<ÉOF\n  text\nÉOF\n}\n',
    ],
)
def test_unicode_identifiers_are_valid_hcl(make_repo, text):
    inventory = run_detectors(make_repo({"main.tf": text}), "terraform")
    assert inventory.diagnostics == []


# What the detector reads of each top-level block: every attribute of `terraform` (None), else these arguments and
# none of the nested blocks. Written out here, apart from the parser's own table.
DETECTOR_READS = {"terraform": None, "provider": {"region", "alias"}, "module": {"source", "version", "count", "for_each"},
                  "resource": {"provider"}, "data": {"provider"}}

EXTRA = """\
variable "tags" {
  type    = map(string)
  default = { team = "core", "cost" : 3 }
  validation {
    condition = length(var.tags) > 0
  }
}

provider "aws" {
  region = "eu-west-1"
  assume_role {
    role_arn = "arn:aws:iam::1:role/x"
  }
  default_tags { tags = { a = "b" } }
}

module "eks" {
  source          = "terraform-aws-modules/eks/aws"
  cluster_name    = local.name
  for_each        = toset(["a"])
  node_groups     = { one = { size = 2 } }
  providers       = { aws = aws.us }
}

resource "aws_s3_bucket" "b" {
  provider = aws.us
  bucket   = "x"
  lifecycle {
    prevent_destroy = true
    provider        = "not the resource's"
  }
}

locals { provider = "a local named provider", source = "not a module source" }

output "id" { value = aws_s3_bucket.b.id }
"""


def as_read(block, wanted):
    """`block` keeping only the attributes `wanted` names (None: all, at any depth)."""
    return type(block)(block.type, block.labels, block.start, block.end,
                       {k: v for k, v in block.attributes.items() if wanted is None or k in wanted},
                       [as_read(child, None if wanted is None else set()) for child in block.blocks])


def detector_view(text):
    blocks, problems = parse_hcl(text)
    return [as_read(block, DETECTOR_READS.get(block.type, set())) for block in blocks], problems


@pytest.mark.parametrize("text", [VERSIONS, PROVIDERS, MAIN, EXTRA, VERSIONS + MAIN + EXTRA + "}\n" + MAIN[:300]])
def test_the_detector_parse_builds_only_what_the_detector_reads(text):
    read = terraform._parse_read(text)
    assert read == detector_view(text)
    blocks, problems = read
    assert problems == parse_hcl(text)[1]
    if text is EXTRA:
        by_type = {block.type: block for block in blocks}
        assert set(by_type["module"].attributes) == {"source", "for_each"}
        assert set(by_type["resource"].attributes) == {"provider"}
        assert by_type["resource"].blocks[0].attributes == {}  # lifecycle's own `provider` is not the resource's
        assert by_type["locals"].attributes == {} and by_type["variable"].blocks[0].type == "validation"


@given(parts=st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=30),
       joiners=st.lists(st.sampled_from([" ", "\n", ""]), min_size=30, max_size=30))
def test_the_detector_parse_has_the_same_blocks_and_problems_on_any_text(parts, joiners):
    text = "".join(part + joiner for part, joiner in zip(parts, joiners, strict=False))
    assert terraform._parse_read(text) == detector_view(text)


def test_scanner_tokens_of_punctuation_identifiers_and_strings():
    text = 'a = {b = [1, 2.5e3], c = f(x) ? y.z : "s"} # note\n  k-2 = -1 // x\n'
    tokens = terraform.Scanner(text).scan()
    assert [(kind, value, line) for kind, value, line, *_ in tokens] == [
        ("ident", "a", 1), ("punct", "=", 1), ("punct", "{", 1), ("ident", "b", 1), ("punct", "=", 1),
        ("punct", "[", 1), ("number", "1", 1), ("punct", ",", 1), ("number", "2.5e3", 1), ("punct", "]", 1),
        ("punct", ",", 1), ("ident", "c", 1), ("punct", "=", 1), ("ident", "f", 1), ("punct", "(", 1),
        ("ident", "x", 1), ("punct", ")", 1), ("punct", "?", 1), ("ident", "y", 1), ("punct", ".", 1),
        ("ident", "z", 1), ("punct", ":", 1), ("string", "s", 1), ("punct", "}", 1), ("newline", "\n", 1),
        ("ident", "k-2", 2), ("punct", "=", 2), ("punct", "-", 2), ("number", "1", 2), ("newline", "\n", 2),
    ]
    assert all(text[start:end] == (f'"{value}"' if kind == "string" else value)
               for kind, value, _, start, end, _ in tokens)


# ------------------------------------------------------------------ tokens from one findall (`_fast_tokens`)

HOSTILE_HCL = [
    "",
    "\n",
    "# only a comment",
    "# comment\n# module.",
    "a = 1 // trailing comment without newline",
    'a = "x" # ${ not a template }\n',
    "terraform {\r\n  backend \"s3\" {\r\n    bucket = \"b\"\r\n  }\r\n}\r\n",  # CRLF
    'a = "nul\x00inside"\nb\x00 = 2\n\x00\n',  # NUL bytes
    "x { " * 200 + "\n" + "} " * 200 + "\n",  # nesting past MAX_NESTING
    "locals {\n  v = " + "{ a = " * 100 + "1" + " }" * 100 + "\n}\n",  # a deep object constructor
    'a = "never closed\nb = 2\n',
    'a = "${never closed\n',
    'a = "${x}" "${y}\n',
    'a = <<EOF\nno end\n',
    'a = <<-EOT\n  text\n  EOT\nb = 1\n',
    'a = /* never closed',
    "/* never closed\n",
    "\n\n/* licence\n   header */\nterraform {\n  backend \"s3\" { key = \"a/*b\" }\n}\n",
    "/* licence */ terraform { required_providers { aws = { source = \"x\" } } }\n",
    "terraform {\n  /* c */ required_providers {\n/* d\n*/ aws = { source = \"/* x */\" }\n  }\n  /* e */ }\n",
    "/* licence\n*/module \"m\" {\n  source = \"./m\"\n  count  = [1,\n 2]\n}\n",
    'a = "$${literal} %%{literal} $$ %% $x %x ${"nested"} %{ if c }y%{ endif }"\n',
    'a = "${a{b}}" # braces inside an interpolation\n',
    'a = "${lookup(m, "k")}"\nb = "${x}\\r\\n\\"q\\"\\\\"\n',
    'a = "tab\\tnew\\nret\\rquote\\"back\\\\odd\\q"\n',
    'module "m" { source = "./${path.module}/x" }\n',
    'resource "a_${x}" "b" { provider = aws.${y} }\n',
    "a = \"trailing backslash\\",
    "²x = 1\n٣ = 2\néclair = 3\n_x-y = 4\n",  # identifier starts by Unicode category
    "terraform {\n  required_providers {\n    aws = { source = \"hashicorp/aws\", version = \"~> 5.0\" } # c\n"
    "    gcp = {\n      source  = \"x\" // c\n      version = \"${v}\"\n    }\n  }\n}\n",
    "a" * 1_000_000 + " = 1\n",  # a 1 MB line
    'a = "' + "x" * 1_000_000 + '"\n',
    'a = "' + "${x}" * 100_000 + '"\n',
    "a = [" + "1, " * 200_000 + "]\n",
]


def _scanner_texts(text):
    return [text[start:end] if kind in ("string", "heredoc") else value
            for kind, value, _, start, end, _ in terraform.Scanner(text).scan()]


def _same_as_the_scanner(text):
    """Whether `_fast_tokens` gives the scanner's token texts and lines (None: it leaves the file to the scanner)."""
    fast = terraform._fast_tokens(text)
    if fast is None:
        return None
    tokens, lines, _ = fast
    scanned = terraform.Scanner(text).scan()
    return tokens == _scanner_texts(text) and lines[:-1] == [line for _, _, line, *_ in scanned]


@pytest.mark.parametrize("text", HOSTILE_HCL)
def test_the_fast_tokens_are_the_scanners_or_none(text):
    assert _same_as_the_scanner(text) in (True, None)


LICENSED = "\n \r\n/**\n * Copyright 2024\n * a = { /* nested opener */\n */\nterraform { backend \"gcs\" {} }\n"
BANNERS = ("/* licence\n */\n\n// generated\n#\n/****\n ****/ # c\nx = 1\n\n  /* section\n */ y {\n  /* z */ /* w */\n"
           "  b = 2 // c\n}\n/* end */")


def test_the_fast_tokens_read_plain_and_simple_template_files():
    for text in (VERSIONS, EXTRA, 'a = "${var.x}-%{ if y }z%{ endif }"  # c\n', "/* c */\n", LICENSED, "/**/x = 1",
                 BANNERS, "/* a */\nx\n/* b */\n", 'a = "${f("x")}-${m["k\\"y"]}"\n'):
        assert _same_as_the_scanner(text) is True, text
    for text in ('a = "${f("${x}")}"\n', 'a = "${f("x\n")}"\n', 'a = "${ {a = 1} }"\n', "a = <<EOF\nx\nEOF\n", "x = 1 /* c */\n", 'a = "open\n', "/* open\n",
                 "//* a */\n/* b", "# see /* here\n", 'a = "x /* y"\n', "x = 1\n/* open"):
        assert terraform._fast_tokens(text) is None, text  # `Scanner`'s own code reads these


@pytest.mark.parametrize("text", [*HOSTILE_HCL, VERSIONS, PROVIDERS, MAIN, EXTRA])
@pytest.mark.parametrize("detector_only", [False, True])
def test_the_parser_agrees_with_the_tuple_parser_on_hostile_text(text, detector_only):
    from .hcl_reference import reference_parse

    parser = terraform.Parser(text, detector_only=detector_only)
    assert (parser.parse(), parser.problems) == reference_parse(text, detector_only=detector_only)


TEMPLATE_PARTS = ["/* c\n */", "\n/**/", '"${f("', '")}"', '["k"]', '"', "${", "%{", "$${", "%%{", "}", "{", "\\", '\\"', "$", "%", "\n", " ", "x", "=", "#", "//",
                  "a = ", 'b "l" {', "\r\n", "é", "٣"]


@given(parts=st.lists(st.one_of(st.sampled_from([*FRAGMENTS, *TEMPLATE_PARTS]), st.text(max_size=6)), max_size=40),
       joiners=st.lists(st.sampled_from([" ", "\n", ""]), min_size=40, max_size=40))
def test_the_parser_agrees_with_the_tuple_parser_on_any_text(parts, joiners):
    from .hcl_reference import reference_parse

    text = "".join(part + joiner for part, joiner in zip(parts, joiners, strict=False))
    assert _same_as_the_scanner(text) in (True, None)
    assert parse_hcl(text) == reference_parse(text)
    assert terraform._parse_read(text) == reference_parse(text, detector_only=True)


def test_copies_of_a_file_are_parsed_once_and_each_keeps_its_own_evidence(make_repo, monkeypatch):
    # Module repositories repeat files in every example: the parse of one text serves its copies, and each copy's
    # items and problems still name its own path
    calls = []
    real = terraform._parse_read
    monkeypatch.setattr(terraform, "_parse_read", lambda text: calls.append(text) or real(text))
    main = 'module "vpc" {\n  source = "./vpc"\n}\nresource "aws_s3_bucket" "b" {\n  bucket = "x"\n'
    inventory = scan(make_repo, {"examples/a/main.tf": main, "examples/b/main.tf": main, "c/main.tf": main + "}\n"})
    assert len(calls) == 2  # two distinct texts
    modules = sorted((i.path, i.evidence.line_start) for i in inventory.infrastructure if i.kind == "terraform-module")
    assert modules == [("c/main.tf", 1), ("examples/a/main.tf", 1), ("examples/b/main.tf", 1)]
    unclosed = sorted(d.path for d in inventory.diagnostics if "never closed" in d.reason)
    assert unclosed == ["examples/a/main.tf", "examples/b/main.tf"]


def test_the_parse_memo_keeps_texts_within_its_budget():
    memo = terraform._ParseMemo(budget=30)
    small, large = 'a = "1"\n', 'b = "' + "x" * 40 + '"\n'
    assert memo.parse(small, json_syntax=False) is memo.parse(small, json_syntax=False)
    assert memo.parse(large, json_syntax=False) is not memo.parse(large, json_syntax=False)  # over the budget
    assert memo.parse("{}", json_syntax=True) is not memo.parse("{}", json_syntax=False)  # two syntaxes, two keys
    assert memo.budget == 30 - len(small) - 2 - 2
