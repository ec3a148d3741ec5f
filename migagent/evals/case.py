"""One eval case: a request, a starting schema, and the golden migration.

A case is a folder under `evals/cases/<case_id>/` (see `evals/cases/README.md`):

- `case.toml`: `request` (required), `tags`, `desired`, `exact_names`, `[rows]`,
  `refuse`
- `before.sql`: the starting schema and rows, run on an empty database
- `golden.py`: the Alembic revision a careful engineer would write
- `checks.sql` (optional): `;`-separated data queries compared after upgrade
- the `desired` file, when the case names one

A *refusal case* (`refuse = "<why>"`) has only `case.toml` and `before.sql`: the
request must be asked back, not drafted, so there is no golden to compare with.

`EvalCase.load(dir)` reads and validates all of it; the eval runner and
`tests/test_eval_cases.py` both go through it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from migagent.errors import UsageError

CASES_DIR = Path(__file__).resolve().parent / "cases"

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


class CaseFile(BaseModel):
    """The contents of `case.toml`, exactly as written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    desired: str | None = None
    exact_names: list[str] = Field(default_factory=list)
    rows: dict[str, int] = Field(default_factory=dict)
    refuse: str | None = None

    @field_validator("request")
    @classmethod
    def _request_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("request must not be blank")
        return value

    @field_validator("refuse")
    @classmethod
    def _refuse_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("refuse must say why the request should be asked back, not be blank")
        return value

    @field_validator("tags")
    @classmethod
    def _tags_words(cls, value: list[str]) -> list[str]:
        for tag in value:
            if not tag or tag != tag.strip() or " " in tag:
                raise ValueError(f"tag {tag!r} must be one non-empty word")
        return value

    @field_validator("desired")
    @classmethod
    def _desired_plain_name(cls, value: str | None) -> str | None:
        if value is not None and (not value or "/" in value or "\\" in value or value[0] == "."):
            raise ValueError(f"desired {value!r} must be a file name inside the case folder")
        return value

    @field_validator("exact_names")
    @classmethod
    def _names_are_identifiers(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _NAME_RE.match(name):
                raise ValueError(f"exact name {name!r} is not a plain identifier")
        return value

    @field_validator("rows")
    @classmethod
    def _rows_non_negative(cls, value: dict[str, int]) -> dict[str, int]:
        for table, count in value.items():
            if count < 0:
                raise ValueError(f"rows.{table} must be >= 0, got {count}")
        return value


class EvalCase(CaseFile):
    """A loaded, validated case: `case.toml` plus where its files are."""

    id: str
    path: Path

    @classmethod
    def load(cls, directory: str | Path) -> EvalCase:
        """Read and validate the case in `directory`; UsageError names what is wrong."""
        directory = Path(directory)
        case_id = directory.name
        if not _ID_RE.match(case_id):
            raise UsageError(
                f"eval case folder name {case_id!r} is not a valid case id",
                "use lowercase letters, digits and underscores",
            )
        toml_path = directory / "case.toml"
        try:
            data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UsageError(
                f"eval case {case_id}: {toml_path} does not exist", "add a case.toml"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"eval case {case_id}: cannot read {toml_path}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(
                f"eval case {case_id}: case.toml is not valid TOML: {exc}", "fix the syntax"
            ) from None
        try:
            fields = CaseFile.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'case.toml'}: {err['msg']}"
                for err in exc.errors()
            )
            raise UsageError(
                f"eval case {case_id}: case.toml is invalid: {problems}",
                "see evals/cases/README.md for the format",
            ) from None
        case = cls(id=case_id, path=directory, **fields.model_dump())
        if case.refuse is not None:
            _check_refusal_case(case)
            required = ["before.sql"]
        else:
            required = ["before.sql", "golden.py"]
        if case.desired is not None:
            required.append(case.desired)
        for name in required:
            if not (directory / name).is_file():
                raise UsageError(
                    f"eval case {case_id}: {name} is missing from {directory}",
                    "add the file or fix case.toml",
                )
        return case

    @classmethod
    def load_all(cls, root: str | Path = CASES_DIR) -> list[EvalCase]:
        """Every case folder (one holding a case.toml) under `root`, sorted by id."""
        root = Path(root)
        if not root.is_dir():
            raise UsageError(f"eval cases folder {root} does not exist", "pass an existing folder")
        return [
            cls.load(d) for d in sorted(root.iterdir()) if d.is_dir() and (d / "case.toml").exists()
        ]

    @property
    def must_refuse(self) -> bool:
        """A refusal case: the right answer is no draft."""
        return self.refuse is not None

    @property
    def before_path(self) -> Path:
        return self.path / "before.sql"

    @property
    def golden_path(self) -> Path:
        return self.path / "golden.py"

    @property
    def checks_path(self) -> Path:
        return self.path / "checks.sql"

    @property
    def desired_path(self) -> Path | None:
        return self.path / self.desired if self.desired is not None else None

    def before_sql(self) -> str:
        return self.before_path.read_text(encoding="utf-8")

    def desired_sql(self) -> str | None:
        path = self.desired_path
        return path.read_text(encoding="utf-8") if path is not None else None

    def checks(self) -> list[str]:
        """The data queries in `checks.sql`, split on `;`; empty when there is no file.

        The split is textual, so a check must not contain `;` inside a literal.
        Pieces that hold only whitespace and `--` comments are dropped.
        """
        if not self.checks_path.is_file():
            return []
        text = self.checks_path.read_text(encoding="utf-8")
        queries = []
        for piece in text.split(";"):
            code = "\n".join(
                line for line in piece.splitlines() if not line.strip().startswith("--")
            )
            if code.strip():
                queries.append(piece.strip())
        return queries


def _check_refusal_case(case: EvalCase) -> None:
    """A refusal case carries nothing to compare a draft with (see README: Refusal cases)."""
    for key in ("desired", "exact_names"):
        if getattr(case, key):
            raise UsageError(
                f"eval case {case.id}: case.toml has both refuse and {key}",
                f"a refusal case has no golden to compare with: remove {key} or remove refuse",
            )
    for name in ("golden.py", "checks.sql"):
        if (case.path / name).exists():
            raise UsageError(
                f"eval case {case.id}: refusal case (refuse in case.toml) has {name}",
                f"remove {name}, or remove refuse to make it a drafting case",
            )
