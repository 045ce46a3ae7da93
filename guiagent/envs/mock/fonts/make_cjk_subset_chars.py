"""Write the code points kept in DroidSansFallback-CJK-subset.ttf (see README.md) to /tmp/cjk_unicodes.txt."""

from __future__ import annotations


def cjk_chars() -> set[str]:
    """The characters kept in the CJK font subset: GB2312 hanzi, JIS level-1 kanji, KS X 1001 hangul, kana, etc."""
    chars: set[str] = set()

    def span(a: int, b: int) -> None:
        chars.update(chr(c) for c in range(a, b + 1))

    for hi in range(0xB0, 0xF8):          # GB2312 hanzi (levels 1 and 2)
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    for hi in range(0x88, 0x99):          # JIS level-1 kanji (Shift-JIS 0x889F-0x9872)
        for lo in range(0x40, 0xFD):
            try:
                ch = bytes([hi, lo]).decode("cp932")
                if len(ch) == 1:
                    chars.add(ch)
            except UnicodeDecodeError:
                pass
    for hi in range(0xB0, 0xC9):          # KS X 1001 hangul syllables
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("euc_kr"))
            except UnicodeDecodeError:
                pass
    span(0x3000, 0x303F)
    span(0x3040, 0x30FF)
    span(0xFF00, 0xFFEF)
    span(0x3130, 0x318F)
    return chars


if __name__ == "__main__":
    chars = sorted(cjk_chars())
    with open("/tmp/cjk_unicodes.txt", "w") as f:
        f.write(",".join(f"U+{ord(c):04X}" for c in chars))
    print(len(chars))
