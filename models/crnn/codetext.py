"""Code and monospace label text: TeX, shell, paths, config, C, Python, e-mail, URLs, options.

Real print shows these in manuals (the real-print dev set: ~40 % of its English lines are TeX
code), and model 0.5.0 never read a backslash or a brace there: the label text held none. The
identifiers, arguments, titles and comments come from the corpora's words (English word list,
jieba words), so no two lines repeat; the fixed parts (commands, keywords, package and
environment names) are the common ones. :func:`code_line` is the ``code`` kind of
:class:`crnn.corpus.Corpus`.

Example:
    >>> import random
    >>> from crnn.codetext import code_line
    >>> words = lambda rng: rng.choice(["alpha", "beta", "gamma"])
    >>> zh = lambda rng, n: "设置路径"
    >>> line = code_line(random.Random(3), words, zh)
    >>> 0 < len(line) <= MAX_CHARS
    True
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Sequence

MAX_CHARS = 48

EnWord = Callable[[random.Random], str]
ZhWords = Callable[[random.Random, int], str]

_SHORT = ("i", "j", "k", "n", "x", "y", "p", "s", "buf", "len", "ptr", "tmp", "str", "src", "dst", "cfg",
          "ctx", "key", "val", "err", "res", "idx", "obj", "data", "name", "path", "file", "size", "count",
          "list", "args", "opts", "node", "item", "value", "result", "input", "output", "config", "user",
          "home", "main", "test", "init", "log", "id", "fd", "fp", "argc", "argv", "self", "cls", "msg")
TEX_PACKAGES = ("ctex", "xeCJK", "amsmath", "amssymb", "graphicx", "hyperref", "geometry", "fontspec", "xcolor",
                "tikz", "booktabs", "listings", "zhnumber", "expl3", "xparse", "l3keys2e", "fancyhdr", "babel",
                "inputenc", "fontenc", "array", "calc", "ifthen", "keyval", "caption", "enumitem", "titlesec",
                "longtable", "multirow", "siunitx", "natbib", "biblatex", "zhlipsum", "xunicode", "etoolbox")
TEX_CLASSES = ("article", "ctexart", "ctexrep", "ctexbook", "report", "book", "beamer", "ctexbeamer", "letter")
TEX_ENVS = ("document", "itemize", "enumerate", "figure", "table", "tabular", "center", "verbatim", "equation",
            "align*", "minipage", "abstract", "description", "lstlisting", "quote", "frame", "figure*", "theorem")
TEX_SECTIONS = ("section", "section*", "subsection", "subsection*", "chapter", "paragraph", "caption", "title",
                "author", "textbf", "emph", "textit", "texttt", "footnote", "mbox", "url", "label", "ref")
TEX_LENGTHS = ("parindent", "parskip", "textwidth", "baselineskip", "topmargin", "columnsep", "tabcolsep")
SHELL_COMMANDS = ("ls", "cd", "cat", "cp", "mv", "rm", "mkdir", "grep", "find", "tar", "make", "git", "pip",
                  "python3", "sudo", "ssh", "curl", "wget", "chmod", "chown", "echo", "export", "xelatex",
                  "tlmgr", "docker", "kill", "man", "less", "head", "tail", "sort", "diff", "vim", "gcc")
C_TYPES = ("int", "char", "void", "long", "double", "float", "unsigned", "size_t", "uint8_t", "const char",
           "static int", "struct node", "bool")
PY_CALLS = ("print", "len", "range", "open", "sorted", "list", "dict", "str", "int", "isinstance", "enumerate",
            "zip", "map", "getattr", "super().__init__", "os.path.join", "np.zeros", "json.dumps", "re.sub")
TLDS = ("com", "org", "net", "cn", "com.cn", "edu.cn", "io", "de", "co.uk", "gov")


def _lower(word: EnWord, rng: random.Random, short: float = 0.5) -> str:
    """A lower-case identifier part: a common short name, or a word of the list (often cut)."""
    if rng.random() < short * 0.5:
        return rng.choice(_SHORT)
    w = "".join(ch for ch in word(rng).lower() if ch in string.ascii_lowercase) or "x"
    if len(w) > 8 and rng.random() < short:
        w = w[: rng.randint(3, 6)]
    return w


def ident(rng: random.Random, word: EnWord) -> str:
    """An identifier: snake_case, camelCase, UPPER_CASE, a short name, sometimes with a digit."""
    parts = [_lower(word, rng) for _ in range(rng.choice((1, 1, 2, 2, 3)))]
    r = rng.random()
    if r < 0.45:
        out = "_".join(parts)
    elif r < 0.65:
        out = parts[0] + "".join(p.capitalize() for p in parts[1:])
    elif r < 0.8:
        out = "_".join(parts).upper()
    elif r < 0.9:
        out = "".join(p.capitalize() for p in parts)
    else:
        out = "".join(parts)
    if rng.random() < 0.1:
        out += str(rng.randint(0, 99))
    if rng.random() < 0.05:
        out = "_" + out if rng.random() < 0.5 else "__" + out + "__"
    return out


def _words(rng: random.Random, word: EnWord, lo: int = 1, hi: int = 4) -> str:
    return " ".join(word(rng) for _ in range(rng.randint(lo, hi)))


def _comment_text(rng: random.Random, word: EnWord, zh: ZhWords) -> str:
    """A comment's words: Chinese (with an English term, as in ``设置 path``) or English."""
    if rng.random() < 0.55:
        out = zh(rng, 8)
        if rng.random() < 0.6:
            term = _lower(word, rng)
            out = f"{out} {term}" if rng.random() < 0.5 else f"{term} {out}"
        return out
    return _words(rng, word, 1, 5).lower()


def _value(rng: random.Random, word: EnWord) -> str:
    r = rng.random()
    if r < 0.3:
        return str(rng.choice((0, 1, 2, 4, 8, 10, 16, 42, 100, 256, 1024, 8080, rng.randint(0, 99999))))
    if r < 0.45:
        return rng.choice(("true", "false", "True", "False", "yes", "no", "on", "off", "null", "None"))
    if r < 0.6:
        return f"{rng.randint(0, 99)}.{rng.randint(0, 999)}"
    if r < 0.75:
        q = rng.choice(('"', "'"))
        return f"{q}{_lower(word, rng)}{q}"
    if r < 0.9:
        return path(rng, word)
    return ident(rng, word)


def path(rng: random.Random, word: EnWord) -> str:
    """A Unix or Windows path, a home-relative one, or a file name with an extension."""
    ext = rng.choice(("txt", "conf", "cfg", "ini", "py", "c", "h", "tex", "sty", "cls", "md", "json", "yaml",
                      "sh", "log", "pdf", "png", "tar.gz", "so", "d"))
    parts = [_lower(word, rng, 0.7) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.15:
        parts = [p.replace("_", "-") + rng.choice(("", f"-{rng.randint(1, 9)}.{rng.randint(0, 20)}")) for p in parts]
    name = f"{ident(rng, word).lower()}.{ext}" if rng.random() < 0.7 else parts.pop()
    r = rng.random()
    if r < 0.3:
        root = rng.choice(("/usr/share/", "/usr/local/", "/etc/", "/var/log/", "/opt/", "/tmp/", "/home/", "/usr/lib/",
                           "/usr/share/doc/", "/usr/share/texmf/tex/latex/"))
        return root + "/".join(parts + [name])
    if r < 0.5:
        return rng.choice(("~/", "~/.", "$HOME/", "${HOME}/.", "~/.config/")) + "/".join(parts + [name])
    if r < 0.7:
        return rng.choice(("./", "../", "", "src/", "../../")) + "/".join(parts + [name])
    if r < 0.85:
        drive = rng.choice(("C:\\", "D:\\", "%APPDATA%\\", "C:\\Program Files\\", "C:\\Users\\"))
        return drive + "\\".join([p.capitalize() if rng.random() < 0.5 else p for p in parts] + [name])
    return "/".join(parts + [name])


def email(rng: random.Random, word: EnWord) -> str:
    user = rng.choice((".", "_", "-", "", "+")).join(_lower(word, rng, 0.7) for _ in range(rng.randint(1, 2)))
    if rng.random() < 0.3:
        user += str(rng.randint(0, 2025))
    host = ".".join(_lower(word, rng, 0.7) for _ in range(rng.randint(1, 2)))
    out = f"{user}@{host}.{rng.choice(TLDS)}"
    r = rng.random()
    if r < 0.15:
        return f"<{out}>"
    if r < 0.25:
        return f"mailto:{out}"
    if r < 0.4:
        return f"{word(rng).capitalize()} {word(rng).capitalize()} <{out}>"
    return out


def url(rng: random.Random, word: EnWord) -> str:
    """A URL with path, query string, fragment or port."""
    scheme = rng.choice(("https://", "https://", "http://", "https://www.", "ftp://", "git@", "www."))
    host = ".".join(_lower(word, rng, 0.7) for _ in range(rng.randint(1, 2))) + "." + rng.choice(TLDS)
    if scheme == "git@":
        return f"git@{host}:{_lower(word, rng)}/{ident(rng, word).lower()}.git"
    out = scheme + host
    if rng.random() < 0.1:
        out += f":{rng.choice((8080, 8000, 443, 3000, rng.randint(1024, 65535)))}"
    for _ in range(rng.randint(0, 3)):
        seg = _lower(word, rng, 0.7)
        out += "/" + (f"~{seg}" if rng.random() < 0.08 else seg)
    if rng.random() < 0.3:
        out += rng.choice(("/", ".html", ".php", ".pdf", "/index.html", ".git"))
    if rng.random() < 0.5:
        params = [f"{_lower(word, rng)}={_lower(word, rng) if rng.random() < 0.6 else rng.randint(0, 9999)}"
                  for _ in range(rng.randint(1, 3))]
        out += "?" + "&".join(params)
        if rng.random() < 0.2:
            out += "%20" + _lower(word, rng)
    if rng.random() < 0.15:
        out += "#" + _lower(word, rng)
    return out


def option(rng: random.Random, word: EnWord) -> str:
    """A command-line option, alone or as a usage or help line."""
    long = "--" + "-".join(_lower(word, rng, 0.8) for _ in range(rng.randint(1, 2)))
    short = "-" + rng.choice(string.ascii_letters)
    arg = rng.choice(("FILE", "DIR", "PATH", "N", "NAME", "URL", "LEVEL", ident(rng, word).upper()))
    r = rng.random()
    if r < 0.25:
        return long
    if r < 0.45:
        return f"{long}={arg if rng.random() < 0.5 else _value(rng, word)}"
    if r < 0.65:
        return f"{short}, {long} {arg}  {_words(rng, word, 1, 4).lower()}"
    if r < 0.8:
        return f"usage: {_lower(word, rng)} [-h] [{long} {arg}] [{short}] {rng.choice(('file', 'FILE ...', 'args'))}"
    return f"{long}, {'--no-' + long[2:]}  {_words(rng, word, 1, 3).lower()}"


def _tex(rng: random.Random, word: EnWord, zh: ZhWords) -> str:
    title = zh(rng, 8) if rng.random() < 0.4 else _words(rng, word, 1, 4).title()
    cmd = "\\" + (ident(rng, word).replace("_", "") if rng.random() < 0.7 else _lower(word, rng))
    r = rng.randrange(13)
    if r == 0:
        opts = ",".join(rng.choice(("UTF8", "fontset=fandol", "scheme=plain", "a4paper", "12pt", "draft", "final",
                                    "colorlinks", "margin=2cm", "zihao=-4", _lower(word, rng))) for _ in range(rng.randint(1, 3)))
        pkg = rng.choice(TEX_PACKAGES) if rng.random() < 0.7 else _lower(word, rng)
        return rng.choice((f"\\usepackage{{{pkg}}}", f"\\usepackage[{opts}]{{{pkg}}}", f"\\RequirePackage{{{pkg}}}",
                           f"\\documentclass[{opts}]{{{rng.choice(TEX_CLASSES)}}}", f"\\documentclass{{{rng.choice(TEX_CLASSES)}}}"))
    if r == 1:
        return f"\\{rng.choice(TEX_SECTIONS)}{{{title}}}" + rng.choice(("", "", f"\\label{{sec:{_lower(word, rng)}}}"))
    if r == 2:
        env = rng.choice(TEX_ENVS)
        tail = rng.choice(("", "", "[htbp]", "[h]", "{|l|c|r|}", "{ll}", f"{{{rng.randint(2, 12)}cm}}"))
        return rng.choice((f"\\begin{{{env}}}{tail}", f"\\end{{{env}}}"))
    if r == 3:
        n = rng.randint(0, 3)
        body = "".join(f"#{i + 1}" for i in range(n))
        return rng.choice((f"\\newcommand{{{cmd}}}[{max(n, 1)}]{{\\textbf{{#1}}}}", f"\\renewcommand{cmd}{{{title}}}",
                           f"\\def{cmd}{body}{{{title}}}", f"\\let{cmd}\\relax", f"\\providecommand*{{{cmd}}}{{}}",
                           f"\\NewDocumentCommand{{{cmd}}}{{m o}}{{#1}}"))
    if r == 4:
        size = rng.choice(("em", "pt", "cm", "mm", "ex", "\\baselineskip"))
        return rng.choice((f"\\setlength{{\\{rng.choice(TEX_LENGTHS)}}}{{{rng.randint(0, 20)}{size}}}",
                           f"\\hspace*{{{rng.randint(-5, 20)}{size}}}", f"\\vspace{{{rng.randint(1, 20)}{size}}}",
                           f"\\ctexset{{{_lower(word, rng)}={{format=\\Large\\bfseries}}}}"))
    if r == 5:  # expl3, with its underscores and colons
        mod = _lower(word, rng, 0.8)
        name = "_".join(_lower(word, rng, 0.8) for _ in range(rng.randint(1, 2)))
        return rng.choice((f"\\cs_new:Npn \\__{mod}_{name}:nn #1#2 {{", f"\\tl_set:Nn \\l_{mod}_{name}_tl {{#1}}",
                           f"\\keys_define:nn {{ {mod} }} {{", f"\\bool_if:NTF \\g_{mod}_{name}_bool",
                           f"\\int_set:Nn \\l_{mod}_int {{ {rng.randint(0, 99)} }}", f"\\__{mod}_{name}:nx {{#1}}"))
    if r == 6:  # LaTeX internals with @
        return rng.choice((f"\\def\\@{_lower(word, rng)}{{\\{_lower(word, rng)}{{}} \\the{_lower(word, rng)}}}",
                           "\\makeatletter", "\\makeatother", f"\\@ifundefined{{{_lower(word, rng)}}}{{}}{{",
                           f"\\renewcommand\\@{_lower(word, rng)}{{\\hfil\\thepage}}"))
    if r == 7:  # a comment line
        return f"% {_comment_text(rng, word, zh)}"
    if r == 8:
        return f"\\item {title}" + rng.choice(("", " \\\\", f" \\cite{{{_lower(word, rng)}{rng.randint(1990, 2025)}}}"))
    if r == 9:  # a table row
        cells = [str(rng.randint(0, 999)) if rng.random() < 0.4 else word(rng) for _ in range(rng.randint(2, 4))]
        return " & ".join(cells) + " \\\\" + rng.choice(("", " \\hline"))
    if r == 10:  # prose naming a command, as manuals do
        before, after = _words(rng, word, 1, 4), _words(rng, word, 0, 3)
        arg = rng.choice(("", f"{{{_lower(word, rng)}}}", f"[{_lower(word, rng)}]", "{<text>}", "*"))
        if rng.random() < 0.35:
            return f"{zh(rng, 6)} {cmd}{arg} {zh(rng, 6)}"
        return f"{before} {cmd}{arg} {after}".strip()
    if r == 11:
        return rng.choice((f"\\input{{{_lower(word, rng)}}}", f"\\include{{{_lower(word, rng)}}}",
                           f"\\includegraphics[width=0.{rng.randint(1, 9)}\\textwidth]{{{_lower(word, rng)}.pdf}}",
                           f"\\href{{{url(rng, word)}}}{{{title}}}"))
    return f"{cmd}{{{title}}}" + rng.choice(("", "%", f" % {_comment_text(rng, word, zh)}"))


def _shell(rng: random.Random, word: EnWord, zh: ZhWords) -> str:
    pkg = _lower(word, rng, 0.8) + rng.choice(("", "", "-dev", "-doc", f"{rng.randint(2, 3)}"))
    r = rng.randrange(12)
    if r == 0:
        cmd = f"{rng.choice(('sudo ', '', 'sudo '))}{rng.choice(('apt-get', 'apt'))} install {rng.choice(('-y ', '', '--no-install-recommends '))}{pkg}"
    elif r == 1:
        cmd = f"pip install {rng.choice(('', '--upgrade ', '-U ', '--user '))}{pkg}{rng.choice(('', f'=={rng.randint(0, 9)}.{rng.randint(0, 20)}', '>=1.0'))}"
    elif r == 2:
        cmd = f"{rng.choice(('cd', 'ls -la', 'mkdir -p', 'rm -rf', 'cat', 'less', 'vim', 'chmod 755', 'touch'))} {path(rng, word)}"
    elif r == 3:
        cmd = rng.choice((f"git clone {url(rng, word)}", f'git commit -m "{_words(rng, word, 1, 4).lower()}"',
                          f"git checkout -b {ident(rng, word).lower()}", "git status", f"git push origin {_lower(word, rng)}"))
    elif r == 4:
        cmd = rng.choice(("make", "make -j4", "make && make install", "./configure --prefix=/usr/local", "cmake ..",
                          f"gcc -O2 -Wall -o {_lower(word, rng)} {_lower(word, rng)}.c", "make clean"))
    elif r == 5:
        cmd = f"export {ident(rng, word).upper()}={rng.choice(('$HOME/', '/usr/local/', ''))}{_lower(word, rng)}" + rng.choice(("", ":$PATH"))
    elif r == 6:
        cmd = rng.choice((f'grep -rn "{_lower(word, rng)}" {_lower(word, rng)}/', f'find . -name "*.{rng.choice(("py", "tex", "c"))}"',
                          f"cat {_lower(word, rng)}.txt | wc -l", f"tar -xzf {pkg}-{rng.randint(1, 9)}.{rng.randint(0, 9)}.tar.gz",
                          f"echo ${ident(rng, word).upper()}", f"kill -9 {rng.randint(100, 99999)}"))
    elif r == 7:
        cmd = rng.choice((f"xelatex {_lower(word, rng)}.tex", f"tlmgr install {rng.choice(TEX_PACKAGES).lower()}",
                          f"latexmk -xelatex {_lower(word, rng)}", f"kpsewhich {rng.choice(TEX_PACKAGES)}.sty"))
    elif r == 8:
        cmd = rng.choice((f"ssh {_lower(word, rng)}@{_lower(word, rng)}.{rng.choice(TLDS)} -p {rng.randint(22, 9999)}",
                          f"curl -O {url(rng, word)}", f"wget -q {url(rng, word)}",
                          f"docker run --rm -it {_lower(word, rng)}:{rng.choice(('latest', '1.0', 'dev'))}"))
    elif r == 9:
        cmd = f"{rng.choice(SHELL_COMMANDS)} {option(rng, word)}"
    elif r == 10:
        return f"# {_comment_text(rng, word, zh)}"
    else:
        cmd = f"python3 -m {_lower(word, rng)}.{_lower(word, rng)} {option(rng, word)}"
    prompt = rng.choice(("$ ", "$ ", "# ", "", "", f"{_lower(word, rng)}@{_lower(word, rng)}:~$ ",
                         f"~/{_lower(word, rng)}$ ", "C:\\> ", "> ", "% "))
    return prompt + cmd


def _config(rng: random.Random, word: EnWord, zh: ZhWords) -> str:
    key = ident(rng, word)
    val = _value(rng, word)
    r = rng.randrange(8)
    if r == 0:
        return f"{key} = {val}"
    if r == 1:
        return f"{key.upper()}={val}"
    if r == 2:
        return f"[{_lower(word, rng)}{rng.choice(('', '.' + _lower(word, rng), ' ' + repr(_lower(word, rng)).replace(chr(39), chr(34))))}]"
    if r == 3:
        return f"{key}: {val}"
    if r == 4:
        return f'"{key}": {val if val[:1] in "0123456789tfn" else chr(34) + val.strip(chr(34) + chr(39)) + chr(34)},'
    if r == 5:
        return f"{key} = {val}  {rng.choice(('#', ';', '//'))} {_comment_text(rng, word, zh)}"
    if r == 6:
        return f"set {_lower(word, rng)}={val}"
    return f"{key}.{_lower(word, rng)}={val}"


def _c(rng: random.Random, word: EnWord, zh: ZhWords) -> str:
    a, b, n = ident(rng, word), ident(rng, word), rng.choice(("n", "len", "N", "count", "size", str(rng.randint(2, 100))))
    i = rng.choice(("i", "j", "k"))
    r = rng.randrange(16)
    if r == 0:
        return rng.choice((f"#include <{rng.choice(('stdio', 'stdlib', 'string', 'math', 'unistd', 'stdint', 'sys/types'))}.h>",
                           f'#include "{_lower(word, rng)}.h"', f"#include <{rng.choice(('iostream', 'vector', 'string', 'map'))}>"))
    if r == 1:
        return rng.choice((f"#define {a.upper()} {rng.randint(0, 4096)}", f"#ifdef {a.upper()}", "#endif", f"#ifndef {a.upper()}_H",
                           f"#define {a.upper()}(x) ((x) * (x))"))
    if r == 2:
        return f"for ({rng.choice(('', 'int '))}{i} = 0; {i} < {n}; {i}++) {{"
    if r == 3:
        return rng.choice((f"while (*{a} != '\\0') {{", f"if ({a} == NULL) return -1;", f"if ({a} != NULL && {a}->{b} == 0) {{",
                           f"}} else if ({a} >= {rng.randint(0, 99)}) {{", "} else {", "}", "};", f"do {{ {a}++; }} while (--{n});"))
    if r == 4:
        return f"{rng.choice(C_TYPES)} {rng.choice(('', '*'))}{a}({rng.choice(C_TYPES)} {b}, {rng.choice(C_TYPES)} *{ident(rng, word)})" + rng.choice(("", " {", ";"))
    if r == 5:
        fmt = rng.choice(("%d", "%s", "%f", "%.2f", "%x", "%u", "%ld", "%c", "%p", "%5.1f%%"))
        return f'printf("{_lower(word, rng)}: {fmt}\\n", {a});' if rng.random() < 0.7 else f'fprintf(stderr, "{fmt} {fmt}\\n", {a}, {b});'
    if r == 6:
        return f"{rng.choice(C_TYPES)} {a}[{n}] = {{{', '.join(str(rng.randint(0, 99)) for _ in range(rng.randint(1, 4)))}}};"
    if r == 7:
        return rng.choice((f"{a}->{b} = &{ident(rng, word)};", f"{a}[{i}] += {b}[{i}] * {rng.randint(2, 9)};",
                           f"{a} = ({b} << {rng.randint(1, 8)}) | ({a} & 0x{rng.randint(0, 255):02x});",
                           f"{a} = {b} ? {rng.randint(0, 9)} : -1;", f"{a} ^= ~{b};", f"{a} %= {n};"))
    if r == 8:
        return rng.choice((f"return {rng.choice(('0', '-1', a, 'NULL', f'{a} + {b}'))};", "break;", "continue;",
                           f"goto {_lower(word, rng)};", f"case '{rng.choice(string.ascii_lowercase)}':", "default:"))
    if r == 9:
        return f"{rng.choice(C_TYPES)} *{a} = malloc(sizeof(*{a}) * {n});"
    if r == 10:
        return f"typedef struct {{ {rng.choice(C_TYPES)} {a}; }} {_lower(word, rng)}_t;"
    if r == 11:
        return rng.choice((f"std::vector<{rng.choice(('int', 'std::string', 'double'))}> {a};", f"std::cout << {a} << std::endl;",
                           f"template <typename T> T {a}(const T& {b})", f"auto {a} = std::make_unique<{b.capitalize()}>();"))
    if r == 12:
        return f"// {_comment_text(rng, word, zh)}"
    if r == 13:
        return f"/* {_comment_text(rng, word, zh)} */"
    if r == 14:
        return f"{a} = {b}({ident(rng, word)}, {rng.randint(0, 99)}); // {_comment_text(rng, word, zh)}"
    return f"int main(int argc, char *argv[]){rng.choice(('', ' {'))}"


def _python(rng: random.Random, word: EnWord, zh: ZhWords, snippets: Sequence[str]) -> str:
    if snippets and rng.random() < 0.2:
        return rng.choice(snippets)
    a, b = ident(rng, word).lower(), ident(rng, word).lower()
    r = rng.randrange(14)
    if r == 0:
        head = f"def {a}({rng.choice(('x', 'self', 'self, ' + b, b, '*args, **kwargs', b + '=None'))})"
        return head + rng.choice((":", f": return x ** {rng.randint(2, 3)}", f" -> {rng.choice(('int', 'str', 'None', 'list[str]'))}:"))
    if r == 1:
        return rng.choice((f"import {_lower(word, rng)}", "import numpy as np", f"from {_lower(word, rng)}.{_lower(word, rng)} import {ident(rng, word)}",
                           f"from . import {a}", f"import {_lower(word, rng)}.{_lower(word, rng)} as {_lower(word, rng)[:2]}"))
    if r == 2:
        return f"class {ident(rng, word).title().replace('_', '')}({rng.choice(('object', 'Exception', 'Base', 'nn.Module', 'dict'))}):"
    if r == 3:
        return rng.choice((f"for {a}, {b} in {ident(rng, word)}.items():", f"for {a} in range({rng.randint(1, 100)}):",
                           f"for {a} in {b}:", f"while {a} < {b}:", f"if {a} is None:", f"elif {a} % {rng.randint(2, 9)} == 0:",
                           "else:", 'if __name__ == "__main__":', f"with open({b!r}) as f:".replace("'", rng.choice(("'", '"')))))
    if r == 4:
        return f"self.{a} = {rng.choice((a, _value(rng, word), '[]', '{}', 'None'))}"
    if r == 5:
        return f"return [{a} for {a} in {b} if {a} % 2 == 0]" if rng.random() < 0.5 else f"return {{{a}: {b} for {a}, {b} in {ident(rng, word)}}}"
    if r == 6:
        return rng.choice((f'print(f"{{{a}}}: {{{b}:.2f}}")', f"print({a}, {b}, sep={rng.choice(('', ', ', '-'))!r})",
                           f'print("{_words(rng, word, 1, 3)}", {a})', f"{rng.choice(PY_CALLS)}({a})"))
    if r == 7:
        return rng.choice(("@property", "@staticmethod", "@classmethod", f"@{_lower(word, rng)}.{_lower(word, rng)}",
                           "try:", f"except {rng.choice(('ValueError', 'KeyError', 'OSError', 'Exception'))} as e:", "finally:",
                           f"raise {rng.choice(('ValueError', 'TypeError', 'RuntimeError'))}(f\"bad {{{a}!r}}\")"))
    if r == 8:
        return f"{a} = {{{', '.join(repr(_lower(word, rng)) + ': ' + str(rng.randint(0, 99)) for _ in range(rng.randint(1, 3)))}}}"
    if r == 9:
        return f"{a} = lambda x: x {rng.choice(('+', '-', '*', '**', '//', '%'))} {rng.randint(1, 9)}"
    if r == 10:
        return f">>> {rng.choice((a + '[1:-1]', a + '.split()', 'len(' + a + ')', a + ' = ' + _value(rng, word), b + '(' + a + ')'))}"
    if r == 11:
        return f"# {_comment_text(rng, word, zh)}"
    if r == 12:
        return f"{a} = {b}  # {_comment_text(rng, word, zh)}"
    return f"{a} = {rng.choice(PY_CALLS)}({b}, {_value(rng, word)})"


def code_line(rng: random.Random, word: EnWord, zh: ZhWords, snippets: Sequence[str] = ()) -> str:
    """One line of code-like text (at most :data:`MAX_CHARS` characters, before normalising).

    ``word(rng)`` gives an English word, ``zh(rng, n)`` Chinese words of up to ``n`` characters,
    ``snippets`` real Python lines (code examples of the Python documentation) to mix in.
    """
    r = rng.random()
    if r < 0.26:
        out = _tex(rng, word, zh)
    elif r < 0.40:
        out = _shell(rng, word, zh)
    elif r < 0.47:
        out = path(rng, word)
    elif r < 0.56:
        out = _config(rng, word, zh)
    elif r < 0.70:
        out = _c(rng, word, zh)
    elif r < 0.83:
        out = _python(rng, word, zh, snippets)
    elif r < 0.88:
        out = email(rng, word)
    elif r < 0.94:
        out = url(rng, word)
    else:
        out = option(rng, word)
    if len(out) > MAX_CHARS:
        start = 0 if rng.random() < 0.7 else out.find(" ", rng.randint(0, len(out) - MAX_CHARS)) + 1
        out = out[start : start + MAX_CHARS]
    return out
