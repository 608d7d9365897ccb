"""Print every differentiable op, by family, with the rule its backward applies.

python -m mytorch.core.ops
"""

from __future__ import annotations

import mytorch.core  # noqa: F401  (imports every op family, which registers its ops)
import mytorch.core.functional  # noqa: F401
from mytorch.core.autograd import registry


def main() -> None:
    total = 0
    for family, ops in sorted(registry().items()):
        print(f"[{family}]")
        for op in ops:
            doc = (op.__doc__ or "").strip().splitlines()
            print(f"  {op.__name__:<24} {doc[0] if doc else ''}")
            total += 1
    print(f"{total} differentiable ops")


if __name__ == "__main__":
    main()
