"""RULER's QA sources: SQuAD 2.0 dev (qa_1) and HotpotQA distractor dev (qa_2).

Local files in the original JSON formats (`squad.json`, `hotpotqa.json`, RULER's names) or the hub
datasets through `datasets`. Documents are de-duplicated and sorted, questions keep file order,
as RULER's `read_squad` / `read_hotpotqa`. A local file is parsed once per content: later processes
read its questions and documents back from `<cache>/ruler_qa/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.core.userfiles import check_type, decode_text, parse_json, read_bytes
from harness.tasks.data import GENERATED, DataSource, TaskOptions, content_digest, hub_source, local_source
from harness.tasks.disk_cache import read_value, write_value
from harness.tasks.ruler.common import gc_paused

HUB = {"squad": ("rajpurkar/squad_v2", None), "hotpotqa": ("hotpotqa/hotpot_qa", "distractor")}
FILES = {"squad": "squad.json", "hotpotqa": "hotpotqa.json"}


@dataclass(frozen=True)
class QAItem:
    query: str
    outputs: tuple[str, ...]
    context: tuple[int, ...]  # gold document ids
    more_context: tuple[int, ...]  # same-article documents (SQuAD)


@dataclass(frozen=True)
class QAData:
    items: tuple[QAItem, ...]
    docs: tuple[str, ...]
    digest: str
    origin: DataSource = GENERATED  # where the source was read (set by the loaders), as results record it


def _squad_rows(articles: list[dict[str, Any]]) -> QAData:
    docs = sorted({p["context"] for a in articles for p in a["paragraphs"]})
    ids = {d: i for i, d in enumerate(docs)}
    items = []
    for article in articles:
        article_docs = [ids[p["context"]] for p in article["paragraphs"]]
        for paragraph in article["paragraphs"]:
            doc = ids[paragraph["context"]]
            more = tuple(i for i in article_docs if i != doc)
            for qa in paragraph["qas"]:
                answers = tuple(a["text"] for a in qa["answers"])
                if qa.get("is_impossible", not answers) or not answers:
                    continue
                items.append(QAItem(qa["question"], answers, (doc,), more))
    return QAData(tuple(items), tuple(docs), "")


def _hotpot_rows(rows: list[dict[str, Any]], source: str) -> QAData:
    """Questions and de-duplicated, sorted documents of HotpotQA-layout `rows` (checked: errors name `source`)."""
    texts = _hotpot_texts(rows)
    if texts is None:
        _check_hotpot(rows, source)  # says what is wrong
        raise HarnessError(f"{source}: not HotpotQA's layout")  # the check found nothing: a type JSON does not make
    docs = sorted({text for row_texts in texts for text in row_texts})
    ids = {d: i for i, d in enumerate(docs)}
    items = [
        QAItem(row["question"], (row["answer"],), tuple(map(ids.__getitem__, row_texts)), ())
        for row, row_texts in zip(rows, texts)
    ]
    return QAData(tuple(items), tuple(docs), "")


def _from_hub(name: str) -> QAData:
    import datasets

    hub_id, config = HUB[name]
    try:
        rows = datasets.load_dataset(hub_id, config, split="validation")
    except Exception as error:  # datasets raises many types when offline
        raise HarnessError(f"could not load {hub_id} from the hub ({type(error).__name__}); "
                           f"pass --data-dir D with D/{FILES[name]} (the original JSON file)") from error
    if name == "squad":
        by_title: dict[str, dict[str, Any]] = {}
        for row in rows:
            article = by_title.setdefault(row["title"], {"paragraphs": []})
            paragraphs = article["paragraphs"]
            if not paragraphs or paragraphs[-1]["context"] != row["context"]:
                paragraphs.append({"context": row["context"], "qas": []})
            texts = list(row["answers"]["text"])
            paragraphs[-1]["qas"].append({"question": row["question"], "answers": [{"text": t} for t in texts],
                                          "is_impossible": not texts})
        data = _squad_rows(list(by_title.values()))
    else:
        data = _hotpot_rows([
            {"question": r["question"], "answer": r["answer"],
             "context": [[title, list(sentences)] for title, sentences in zip(r["context"]["title"],
                                                                              r["context"]["sentences"])]}
            for r in rows
        ], hub_id)
    return QAData(data.items, data.docs, f"hub:{hub_id}", hub_source(hub_id, rows))


def _field(obj: Any, key: str, kinds: type | tuple[type, ...], where: str) -> Any:
    """`obj[key]`, checked: `obj` an object that has `key`, its value of `kinds`."""
    check_type(obj, dict, where)
    if key not in obj:
        raise HarnessError(f"{where}: missing field {key!r}")
    check_type(obj[key], kinds, f"{where}.{key}")
    return obj[key]


def _squad_ok(raw: Any) -> bool:
    """`_check_squad`'s test in one quick pass (JSON gives exact types); False: let it say what is wrong."""
    try:
        return _squad_walk(raw)
    except _NotSquad:
        return False


def _squad_walk(raw: Any) -> bool:
    for article in _list_at(raw, "data"):
        for paragraph in _list_at(article, "paragraphs"):
            qas = _list_at(paragraph, "qas")  # first: it checks that `paragraph` is an object
            if type(paragraph.get("context")) is not str:
                return False
            for qa in qas:
                answers = _list_at(qa, "answers")
                if type(qa.get("question")) is not str or any(
                        type(a) is not dict or type(a.get("text")) is not str for a in answers):
                    return False
    return True


class _NotSquad(Exception):
    """Raised by `_list_at` inside `_squad_ok`'s walk."""


def _list_at(obj: Any, key: str) -> list[Any]:
    """`obj[key]` when `obj` is an object and that a list, else `_NotSquad`."""
    value = obj.get(key) if type(obj) is dict else None
    if type(value) is not list:
        raise _NotSquad(key)
    return value


def _check_squad(raw: Any, source: str) -> None:
    """SQuAD 2.0's layout: data[].paragraphs[].{context, qas[].{question, answers[].text}}."""
    if _squad_ok(raw):
        return
    for i, article in enumerate(_field(raw, "data", list, source)):
        for j, paragraph in enumerate(_field(article, "paragraphs", list, f"{source}: data[{i}]")):
            where = f"{source}: data[{i}].paragraphs[{j}]"
            _field(paragraph, "context", str, where)
            for k, qa in enumerate(_field(paragraph, "qas", list, where)):
                _field(qa, "question", str, f"{where}.qas[{k}]")
                for m, answer in enumerate(_field(qa, "answers", list, f"{where}.qas[{k}]")):
                    _field(answer, "text", str, f"{where}.qas[{k}].answers[{m}]")


def _hotpot_texts(raw: Any) -> list[list[str]] | None:
    """Each row's document texts ("title\nsentences"), built in the pass that checks HotpotQA's layout
    (JSON gives exact types; `join` takes only strings); None where the layout is wrong, for
    `_check_hotpot` to say where."""
    if type(raw) is not list:
        return None
    texts = []
    try:
        for row in raw:
            if type(row) is not dict or type(row.get("question")) is not str or type(row.get("answer")) is not str \
                    or type(row.get("context")) is not list:
                return None
            row_texts = []
            for doc in row["context"]:
                if type(doc) is not list or len(doc) != 2 or type(doc[0]) is not str or type(doc[1]) is not list:
                    return None
                row_texts.append(f"{doc[0]}\n{''.join(doc[1])}")
            texts.append(row_texts)
    except TypeError:  # a sentence that is not a string
        return None
    return texts


def _check_hotpot(raw: Any, source: str) -> None:
    """HotpotQA's layout: a list of {question, answer, context: [[title, [sentence, ...]], ...]}."""
    check_type(raw, list, f"{source}: the top level")
    for i, row in enumerate(raw):
        where = f"{source}: [{i}]"
        _field(row, "question", str, where)
        _field(row, "answer", str, where)
        for j, doc in enumerate(_field(row, "context", list, where)):
            at = f"{where}.context[{j}]"
            check_type(doc, list, at)
            if len(doc) != 2 or not isinstance(doc[0], str) or not isinstance(doc[1], list) \
                    or not all(isinstance(x, str) for x in doc[1]):
                raise HarnessError(f"{at}: expected [title, [sentence, ...]]")


PARSE_VERSION = 1  # bump when the parsing changes: the on-disk cache keys on it
PARSED_FOLDER = "ruler_qa"


@lru_cache(maxsize=4)
def _from_file(name: str, path: Path) -> QAData:
    """The file's questions and documents, parsed once per content (then read from `<cache>/ruler_qa/`:
    19 MB of HotpotQA JSON takes ~0.3 s to parse and de-duplicate, its parsed value ~0.1 s to read)."""
    what = f"RULER qa ({name}) file"
    data = read_bytes(path, what)
    digest = content_digest([(path.name, data)])
    key = f"{name}-{digest}-v{PARSE_VERSION}"
    with gc_paused():
        parsed = _from_value(read_value(PARSED_FOLDER, key))
        if parsed is None:
            raw = parse_json(decode_text(data, path), str(path))
            if name == "squad":
                _check_squad(raw, str(path))
                parsed = _squad_rows(raw["data"])
            else:
                parsed = _hotpot_rows(raw, str(path))
            if not parsed.items:
                raise HarnessError(f"{path}: no answerable questions")
            write_value(PARSED_FOLDER, key, _to_value(parsed))
    return QAData(parsed.items, parsed.docs, digest, local_source(path, digest))


def _to_value(data: QAData) -> tuple[tuple[str, ...], tuple[tuple[Any, ...], ...]]:
    """`data`'s documents and questions as builtin values (what `_from_value` reads back)."""
    return data.docs, tuple((i.query, i.outputs, i.context, i.more_context) for i in data.items)


def _from_value(value: Any) -> QAData | None:
    """The data kept by `_to_value`, or None when `value` is absent or not such a value."""
    try:
        docs, rows = value
        items = tuple(QAItem(*row) for row in rows)
    except (TypeError, ValueError):  # not a pair, a row that is not four values
        return None
    if type(docs) is not tuple or not items:
        return None
    return QAData(items, docs, "")


def load_qa(name: str, options: TaskOptions) -> QAData:
    """The QA data for `name` (squad|hotpotqa): `--task-args data=PATH`, `--data-dir`, else the hub."""
    root = options.data_root()
    given = options.args.get("data")
    if given or (root is not None and (root / FILES[name]).exists()):
        return _from_file(name, options.find("data", FILES[name], f"RULER qa ({name})"))
    return _load_hub_cached(name)


def check_qa(name: str, options: TaskOptions) -> None:
    """Read the QA source a task will use (`Task.check`: errors before any model loads)."""
    load_qa(name, options)


def qa_source(name: str, options: TaskOptions) -> DataSource:
    """Where the QA source a task uses was read (`Task.data_source`)."""
    return load_qa(name, options).origin


@lru_cache(maxsize=2)
def _load_hub_cached(name: str) -> QAData:
    return _from_hub(name)
