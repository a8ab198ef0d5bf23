"""A blank Jet 4 (Access 2000-2003) database holding only the system tables, 77,824 bytes (19 pages).

The bytes are those that PyPI ``msaccessdb`` 1.0.0 (Copyright 2019 Gordon D. Thompson, Apache License 2.0)
writes for a new ``.mdb``: a database created by the Jet engine itself, with MSysObjects, MSysACEs,
MSysQueries and MSysRelationships and their indexes. They are kept here (gzip, base64) so that the writer
needs no dependency; :mod:`validation.jet4.writer` adds user tables to a copy.
"""

from __future__ import annotations

import base64
import gzip

_GZ_B64 = (
    "H4sIAAAAAAACA+2de2wcRx3Hf7O7Pt/d3u6eLyEtVaOaqg+EkjQvuVVDwa9ajWXHdZxQQlCJ7fOrfp3OTpqkhVxTItFWIhVQVFBR"
    "VNIKRaColVpAUKGKRwwFqUAhKiBIpUaoVWP+qKgIIHL8Znb39u72znWJiWP3+9l473fzm/nNY3cdf2fmbBJEPdO9E+nebLq+fWC6"
    "vrWZOImen9D79sR+vPPNE0PZxo/TE5879mj+yNc3/OzAD2bXv3DmV9/o/8PZnxxr+/fDL2w79ulzN7e+/sS/zvzzw3+N1z28p3PT"
    "fQ3nfn/m2YmeFS2no89uWnvqwO5HUvd/5Phr938tes3j/zm5+qT41J8/P/iZx87/+qHrjgyduubG1t/+7eWB2XztTNuT+1clZt9c"
    "2/e7HRGizevWEwAAAAAAAACAhUEIwvE+PoRIO8K7FzT6obPPwTMBAAAAAAAAAABcfpzPXwya+Ispo1xlEO2KEEX9eaGyWnrqyKQ6"
    "0tQ0AcNZRcR1RYuy+XZCxoqRzmaMI6cKGRJuJVrIEZUOQ9UrHStUYpyzKkdNmSPFDkM6aguhXMdVHCMuHXE2Suu4IFQJl6CErNWU"
    "DouDlbdKOZIcrKLD4S5WdNhqIEodqlVaofKgVTHpiBQ6uLG0uaKsuYbf3IS8BmV1qFAmj1Z5Hbp06GWDKC+DTS00SRN8DFA/TXNf"
    "W6mXX3upj7+mOHWllzLAObN8du0gdSdlKO3ZcWqjMbaHuOQqtidViRF+P0HbOH2c3xm0lfMb1EH7uHZ5vp32c+ks+5PqfSeXS9Ne"
    "jjTAvZQpd7J3kuuJFqLEqYvuVa3Ocqk7OVXWNMFxZPRVtJ1zSXuCBrlkh+rjEF1Zlt5Dw6qN0xx5Bx3gGgbowVo56EIjkc9TxX9J"
    "dd+5PKDOD6q3VQvwv7qiZ8st419cdYHlo6iuriF8X4HA590AsodXhvrsj0yMDPnAuI+ZvOrq1o7K51Hdy7a8cdXNm5AedbfG5W3j"
    "3lOybxFZKb6zAgAAAAAAsNzQxAlbvnYJV3VcUU3/S2luBIKFha+IlWp+wxW4IiRXRSXxKeNU1eOxUuUbSOIINbEM7WT506ZE3LAS"
    "gCOeYJWCMcnCsI/u8eSsFEYRlnlbWa6+u0jTYqSkvuQL9G5CLFwTRBMAAAAAAAAAgMtW/79lyVdLKxW7oqDF3bXOniib0UD/m/xq"
    "loWqvFwt3DX/mrLNALIu3V35NkpK1JDmL+2XOmr9pf1gKiFY4I672wc0mveaf6zaenyKmljPT6t5hT7a6y13y0XqjFpwneJjRC0o"
    "RwvL3eUL2fHCcuyGIntjhTkDuZCd5Vc5j+HNUMyx+myYcpHW5YG5ZijUdbg2VFu4ZzzcHFM3seQLAAAAAAAAAMtc//9S6cm1emX9"
    "7ytK1v81rHelhtfVfAFnseZXRdV9Ad7+dhGS5kbl3eqe/K8pU/nnYwX5X2VeoLbCZwHi7txD6aTELabnoLJ5AfPFC8JmFd3Pun+M"
    "lfM4q/846/4s62i5+8Dmc7EvSVN0UG2tL00p1uPXqZTt/G5QqX+5lbufz+mSctVzFce6upBrTG3Fd+cnpmiYrUyw8+GNfL4hn8/k"
    "83qZrVlyGzgPeqbhjcOqx7KMEZRpU/MPQ+rsldEtuYm8vExkznoMS+6bKC5TZRt8wVf4xEkFX4V5D/X2vYz1/EcR8yMAAAAAAACA"
    "JY0Qf/d3vLPUlb//b4Nzzv6W3Wevtl+1vmxts2LWTxOHErcm3jGfMUfNG0yMGQAAAAAAeJ/8rLwAMXIYRgCARFv8IIaYtKpGqCdq"
    "lN/2kupD/ob67qXhsi0lDh2Vp6728faO9tHuUflfWJ1wE0e6724f35XuG71r16Dr0FwH573by6rKi0N7RveNtnd6aTVBWrpjd3fn"
    "uJtsBMnDk90ju7zckSA5XGGtdGrK2dWhUnRcMgAAAAAAAAD4v2CIV6vqf82IJusbcwsy7wkWSf/n1JQNq/Oc+uQGq/ecmsphYZ6T"
    "n6XwRLjwxb7mTxDoakLgURUFshwAAAAAAAAAljpCrHZ8W/f2/2NUAAAAAAAAAAAAhXH5RLm4IIbotqot7hbW/0MGWCp46/+pgpHw"
    "jZS3IyAlfMPytgakNN+wfcPxNgukdN9I+kadt30gZfhGjW+s8I2V3s6CVNTbWZCK+Eatb3zAN1Z5mw5SMd+I+wZ++QQAAAAAAAAA"
    "/K8IcdT27Zqi3/+HkQEAAAAAAAAAsGgkMQQLjSHqbQPDAAAAAAAAAAAALGuw/g8AAAAAAAAA4DJUqwsQI7cQDWlcLiMq1/9rcGMB"
    "AAAAAAAAAADLGuh/AAAAAAAAAAAA+h8AAAAAAAAAAABLHyHusDTPjtLzTtoxnRftUftqe8YatDA+AAAAAAAAAPDeqJN/KVt+et0R"
    "9PYnzz7W8PrZRv+VHblO6qEDNEXbaYDGqJemaYQmaYJThtnK8Gvzb1opfDRTPZmUlxUY86qgm/ZyFVkOOqCC3kLhoyEIqs8raBO1"
    "0O0q3EYKH+uDcNq8wnVRH93D7evnYZhHG5kkB3a0OYO2ctCWV9ZR+FhT0l2HCzl6xVBzXZyPUvi4taTjcwRuVUF7uYW9HMy9MJsp"
    "fGwMAoo5A+5Qwca8UHN2WogeU/fu0ito1vmjM+M85zzpfNG5zxl2djrNzk3O9+0m+yWrx2q0fpH4buJ4Yk3ig4lvmkfxx9gBAAAA"
    "AAC4OAylQfJ5h5pfSVCcf853gqSmWPSZux6xjUznltH2HT/flNu7++0NZ7/07cg/vnPbVu30y6d/NLvlabPh+j81v/Xc5g9l1h2f"
    "+epn9+VPdN90OHHvU50fm94y/ZXvWQ/tP/yJG/NH3llz8A79tlNPG72DHSePHdzz2s3XPzVjvzSUvSHjVys1Rv5CSUv8pEvcEqkb"
    "V/KX35JaQ+npikmRS9o4rtYIt8RYnJa4Ou6SV6stTm+l7rcXq9qSy+23pCVIcgV/SZKuJj5CSRc4Y/PpkiesLJcI53J37NvFuQzv"
    "4peGL0/SypP+C+45xVAAMAEA"
)


def blank_jet4() -> bytes:
    """The blank database's bytes (a fresh copy each call)."""
    return gzip.decompress(base64.b64decode(_GZ_B64))
