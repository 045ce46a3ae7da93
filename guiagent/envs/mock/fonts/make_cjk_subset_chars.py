chars=set()
def rng(a,b):
    for c in range(a,b+1): chars.add(chr(c))
# GB2312 (simplified Chinese) all hanzi levels 1+2? level1 only: rows 0xB0-0xD7
for hi in range(0xB0,0xF8):
    for lo in range(0xA1,0xFF):
        try: chars.add(bytes([hi,lo]).decode("gb2312"))
        except UnicodeDecodeError: pass
# JIS level 1 kanji via cp932 0x889F-0x9872
for hi in range(0x88,0x99):
    for lo in range(0x40,0xFD):
        try:
            ch=bytes([hi,lo]).decode("cp932")
            if len(ch)==1: chars.add(ch)
        except UnicodeDecodeError: pass
# KS X 1001 hangul syllables
for hi in range(0xB0,0xC9):
    for lo in range(0xA1,0xFF):
        try: chars.add(bytes([hi,lo]).decode("euc_kr"))
        except UnicodeDecodeError: pass
rng(0x3000,0x303F); rng(0x3040,0x30FF); rng(0xFF00,0xFFEF); rng(0x3130,0x318F)
print(len(chars))
open("/tmp/cjk_unicodes.txt","w").write(",".join("U+%04X"%ord(c) for c in sorted(chars)))
