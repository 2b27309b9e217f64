"""Each task's own typed options (its `--task-args`), and how raw task arguments reach them.

A task declares its options as a frozen dataclass subclassing `Options`: the fields are the keys it
reads, with their defaults; `parse` checks and converts the raw values. Only a task's own options
enter its sample-cache key (`Options.given`), so a niah-only argument leaves RULER's samples alone.

Raw keys reach tasks by these rules (`resolve_task_args` checks them, `own_args` applies them):
`niah.depth_steps=5` reaches the selected task `niah` only; `ruler.placement=per_sample` every selected
member of group `ruler` that declares `placement`; an unqualified key every selected task that declares
it. A key no selected task declares is an error ("did you mean"), and so is an unqualified key that
different options classes declare each on their own (qualify it), unless each marks it `shared` (it means
the same thing everywhere: the essay folder, the truncation mode); a subclass inheriting a field shares it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, Iterable, Mapping, TypeVar

from harness.core.errors import HarnessError
from harness.core.registry import did_you_mean

OptionsT = TypeVar("OptionsT", bound="Options")


@dataclass(frozen=True)
class Options:
    """A task's options (none by default). Subclasses add fields; `shared` names the keys that mean the
    same for every task declaring them (an unqualified one may reach tasks with different options)."""

    shared: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The `--task-args` keys this task declares."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def declarer(cls, key: str) -> type[Options]:
        """The class that declares field `key` (a subclass inheriting it shares its meaning)."""
        for klass in reversed(cls.__mro__):
            if isinstance(klass, type) and issubclass(klass, Options) and key in getattr(klass, "__dataclass_fields__", {}):
                return klass
        raise KeyError(key)

    @classmethod
    def parse(cls: type[OptionsT], args: Mapping[str, Any]) -> OptionsT:
        """The options from a task's (unqualified) arguments: the declared keys, each checked by
        `convert`; keys the task does not declare are left for other tasks."""
        own = {key: value for key, value in args.items() if key in cls.keys()}
        options = cls(**{key: cls.convert(key, value) for key, value in own.items()})
        options.check()
        object.__setattr__(options, "_given", dict(own))
        return options

    @classmethod
    def convert(cls, key: str, value: Any) -> Any:
        """One raw value as the field's type (override for keys that need more than the default's type)."""
        default = next(f.default for f in fields(cls) if f.name == key)
        if isinstance(default, bool):
            return boolean(key, value)
        if isinstance(default, int):
            return integer(key, value)
        if isinstance(default, str) or default is None:
            return str(value)
        return value

    def check(self) -> None:
        """Refuse values that are well typed but out of range (override)."""

    @property
    def given(self) -> dict[str, Any]:
        """The task's own arguments as given (raw values): what its sample-cache key and fingerprint hold."""
        return dict(getattr(self, "_given", {}))


NO_OPTIONS = Options()


def integer(key: str, value: Any) -> int:
    """A whole number (an int, or its decimal text), else an error naming the key and value."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise HarnessError(f"bad --task-args {key}={value!r}: expected an integer")


def boolean(key: str, value: Any) -> bool:
    """true/false (a bool, or its text)."""
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1", "yes", "false", "0", "no"):
        return str(value).lower() in ("true", "1", "yes")
    raise HarnessError(f"bad --task-args {key}={value!r}: expected true or false")


def one_of(key: str, value: Any, choices: Iterable[str], flag: str | None = None) -> str:
    """`value` if it is one of `choices`, else an error naming the key (or its flag)."""
    allowed = tuple(choices)
    if str(value) not in allowed:
        given = f"{flag} {value!r}" if flag else f"--task-args {key}={value!r}"
        raise HarnessError(f"bad {given}: expected one of {', '.join(allowed)}")
    return str(value)


def own_args(task: str, groups: Iterable[str], args: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments addressed to `task` (member of `groups`), unqualified: unqualified keys as they are,
    `<group>.key` for a group holding it, then `<task>.key` (the most specific wins); keys qualified
    for other tasks are dropped."""
    member_of = set(groups)
    plain = {key: value for key, value in args.items() if "." not in key}
    by_group = {key.split(".", 1)[1]: value for key, value in args.items()
                if "." in key and key.split(".", 1)[0] in member_of and key.split(".", 1)[0] != task}
    by_task = {key.split(".", 1)[1]: value for key, value in args.items() if key.split(".", 1)[0] == task and "." in key}
    return {**plain, **by_group, **by_task}


def check_task_args(declared: Mapping[str, type[Options]], groups: Mapping[str, list[str]], raw: Mapping[str, Any]) -> None:
    """Refuse a key that reaches no selected task, a qualifier that names none, and an ambiguous unqualified key.

    `declared`: each selected task's options type; `groups`: the groups holding each selected task."""
    for key in raw:
        if "." in key:
            qualifier, bare = key.split(".", 1)
            targets = [n for n in declared if n == qualifier] or [n for n in declared if qualifier in groups.get(n, [])]
            if not targets:
                known = [*declared, *{g for n in declared for g in groups.get(n, [])}]
                hint = did_you_mean(qualifier, known)
                raise HarnessError(f"--task-args {key}: {qualifier!r} is not a selected task or group "
                                   f"(selected: {_shown(declared)}){'; ' + hint if hint else ''}")
            keys = sorted({k for n in targets for k in declared[n].keys()})
            if bare not in keys:
                hint = did_you_mean(bare, keys, template=f"{qualifier}.{{}}")
                raise HarnessError(f"--task-args {key}: {qualifier} has no option {bare!r} "
                                   f"(it has {', '.join(keys) or 'none'}){'; ' + hint if hint else ''}")
            continue
        takers = [n for n in declared if key in declared[n].keys()]
        if not takers:
            keys = sorted({k for n in declared for k in declared[n].keys()})
            hint = did_you_mean(key, keys)
            raise HarnessError(f"--task-args {key}: no selected task ({_shown(declared)}) has this option "
                               f"(they have {', '.join(keys) or 'none'}){'; ' + hint if hint else ''}")
        kinds = {declared[n].declarer(key) for n in takers}  # one declaration (inherited or not): one meaning
        if len(kinds) > 1 and not all(key in kind.shared for kind in kinds):
            spelled = ", ".join(f"{n}.{key}" for n in takers[:4]) + (", ..." if len(takers) > 4 else "")
            raise HarnessError(f"--task-args {key} is ambiguous: tasks with different options declare it "
                               f"({_shown(takers)}); qualify it, e.g. {spelled}")


def _shown(names: Iterable[str]) -> str:
    listed = list(names)
    return ", ".join(listed[:6]) + (f", ... ({len(listed)} tasks)" if len(listed) > 6 else "")


def tasks_declaring(task_names: list[str], key: str) -> list[str]:
    """The tasks among `task_names` that declare option `key` (unqualified)."""
    from harness.tasks import get_task

    return [name for name in task_names if key in type(get_task(name).options).keys()]


def resolve_task_args(task_names: list[str], raw: Mapping[str, Any]) -> dict[str, Options]:
    """Each selected task's typed options from the run's raw task arguments (checked: see the module)."""
    from harness.tasks import get_task, groups_of
    from harness.tasks.data import TaskOptions

    groups = {name: groups_of(name) for name in task_names}
    declared = {name: type(get_task(name).options) for name in task_names}
    check_task_args(declared, groups, raw)
    return {name: get_task(name, TaskOptions(args=dict(raw))).options for name in task_names}
