#!/usr/bin/python3
"""Build the `dates` corpus: human-written dates in English, French and Russian -> ISO 8601.

Every input names exactly one date; the conventions that make this true:
  * numeric forms are written with the year in full, in two orders only: day.month.year with dots
    ("05.03.2019", "5.3.2019", the European and Russian convention) and year-month-day with
    dashes, slashes or dots ("2019-03-05", "2019/03/05", "2019/3/5", "2019.03.05"); the US
    month/day order is only used with a spelled-out month ("March 5, 2019"), and day/month with
    slashes ("05/03/2019", ambiguous between the US and European readings) is never written;
  * two-digit years appear only with a spelled-out month ("March 5th '19", "Mar 5 '19",
    "5 mars 19"), and map into 1950..2049 (50..99 -> 19xx, 00..49 -> 20xx); the corpus only
    draws dates in that range;
  * years are always digits; days are digits, ordinal numerals ("5th", "1er") or day words;
  * weekday names, when written, are the true weekday of the date.

Forms (`templates`; d = 5 March 2021, a Friday):
  English: "5 March 2021", "March 5, 2021", "March 5th, 2021", "March 5th '21", "Friday, 5 March
    2021", "Friday, March 5, 2021", "Fri 5 Mar 2021", "Mar 5, 2021", "Mar. 5, 2021", "Mar 5 '21",
    "5 Mar 2021", "5-Mar-2021", "the 5th of March, 2021", "5th March 2021", "5th Mar 2021";
    day words (ordinals): "the fifth of March, 2021", "March fifth, 2021", "fifth March 2021",
    "Friday, March fifth, 2021".
  French: "5 mars 2021", "1er mars 2021", "vendredi 5 mars 2021", "le 5 mars 2021",
    "5 mars 21", "5 mars 2021" with abbreviations ("5 févr. 2021"); day words (cardinals, and
    "premier" for the 1st): "le cinq mars 2021", "le premier mars 2021", "vendredi cinq mars 2021".
  Russian: "5 марта 2021", "5 марта 2021 г.", "5 марта 2021 года", "пятница, 5 марта 2021 г.",
    "5 мар. 2021 г.", "05.03.2021 г.", "5-е марта 2021 г.", "5-го марта 2021 года"; day words
    (ordinals, neuter nominative and genitive): "пятое марта 2021 года", "пятое марта 2021 г.",
    "пятого марта 2021 года".
  Numeric: "05.03.2021", "5.3.2021", "2021/03/05", "2021/3/5", "2021.03.05", "2021-03-05".
Each form is then written as is (most often), in lower case, in upper case or with its first
letter capitalised (`CASES`). scripts/data/dates_unseen.py writes a second test set from forms
this module never writes (tests/python/test_data.py checks that they never coincide).

Splits are drawn from disjoint sets of dates (train, dev and test never share a date), with a fixed
seed, so the corpus is identical on every run. Output: OUT/{train,dev,test}.{src,tgt}.
"""
import argparse, datetime, os, random

EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]
EN_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
FR_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre"]
FR_DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
RU_MONTHS_GEN = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
                 "сентября", "октября", "ноября", "декабря"]
RU_DAYS = ["понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье"]
FR_ABBR = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
           "nov.", "déc."]
RU_ABBR = ["янв.", "февр.", "мар.", "апр.", "мая", "июн.", "июл.", "авг.", "сент.", "окт.",
           "нояб.", "дек."]

FIRST = datetime.date(1950, 1, 1)
LAST = datetime.date(2049, 12, 31)


def ordinal(n):
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


EN_ORD = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
          "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
          "seventeenth", "eighteenth", "nineteenth", "twentieth"]
EN_ORD += [f"twenty-{w}" for w in EN_ORD[:9]] + ["thirtieth", "thirty-first"]
FR_CARD = ["premier", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix",
           "onze", "douze", "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit",
           "dix-neuf", "vingt", "vingt et un"]
FR_CARD += [f"vingt-{w}" for w in FR_CARD[1:9]] + ["trente", "trente et un"]
RU_ORD_NOM = ["первое", "второе", "третье", "четвёртое", "пятое", "шестое", "седьмое", "восьмое",
              "девятое", "десятое", "одиннадцатое", "двенадцатое", "тринадцатое",
              "четырнадцатое", "пятнадцатое", "шестнадцатое", "семнадцатое", "восемнадцатое",
              "девятнадцатое", "двадцатое"]
RU_ORD_NOM += [f"двадцать {w}" for w in RU_ORD_NOM[:9]] + ["тридцатое", "тридцать первое"]
# genitive of the neuter ordinal: -ое/-ье -> -ого/-ьего ("третье" -> "третьего")
RU_ORD_GEN = [w[:-1] + "его" if w.endswith("ье") else w[:-2] + "ого" for w in RU_ORD_NOM]
assert len(EN_ORD) == len(FR_CARD) == len(RU_ORD_NOM) == 31


def yy(d):
    return f"{d.year % 100:02d}"


def en_abbr_dot(m):
    """"Mar." for March; May is already whole, so it takes no dot."""
    return EN_MONTHS[m] if len(EN_MONTHS[m]) == 3 else EN_MONTHS[m][:3] + "."


def fr_day(day):
    return "1er" if day == 1 else str(day)


# Case variants, with their weights: as written, lower, upper, first letter capitalised.
CASES = [(lambda s: s, 6), (str.lower, 2), (str.upper, 2), (lambda s: s[:1].upper() + s[1:], 1)]


def parts(d):
    """The pieces of date d the templates (here and in dates_unseen.py) are written from:
    month index, day, year, weekday, English month and abbreviation, French and Russian month."""
    m = d.month - 1
    return m, d.day, d.year, d.weekday(), EN_MONTHS[m], EN_MONTHS[m][:3], FR_MONTHS[m], \
        RU_MONTHS_GEN[m]


def templates(d):
    """Every form (before the case variant) this generator writes for date d."""
    m, day, y, wd, en_m, en_a, fr_m, ru_m = parts(d)
    en_w = EN_ORD[day - 1]
    return [
        # English
        f"{day} {en_m} {y}",
        f"{en_m} {day}, {y}",
        f"{en_m} {ordinal(day)}, {y}",
        f"{en_m} {ordinal(day)} '{yy(d)}",
        f"{EN_DAYS[wd]}, {day} {en_m} {y}",
        f"{EN_DAYS[wd]}, {en_m} {day}, {y}",
        f"{EN_DAYS[wd][:3]} {day} {en_a} {y}",
        f"{en_a} {day}, {y}",
        f"{en_abbr_dot(m)} {day}, {y}",
        f"{en_a} {day} '{yy(d)}",
        f"{day} {en_a} {y}",
        f"{day}-{en_a}-{y}",
        f"the {ordinal(day)} of {en_m}, {y}",
        f"{ordinal(day)} {en_m} {y}",
        f"{ordinal(day)} {en_a} {y}",
        f"the {en_w} of {en_m}, {y}",
        f"{en_m} {en_w}, {y}",
        f"{en_w} {en_m} {y}",
        f"{EN_DAYS[wd]}, {en_m} {en_w}, {y}",
        # French
        f"{fr_day(day)} {fr_m} {y}",
        f"{FR_DAYS[wd]} {fr_day(day)} {fr_m} {y}",
        f"le {fr_day(day)} {fr_m} {y}",
        f"{day} {FR_ABBR[m]} {y}",
        f"{day} {fr_m} {yy(d)}",
        f"le {FR_CARD[day - 1]} {fr_m} {y}",
        f"{FR_DAYS[wd]} {FR_CARD[day - 1]} {fr_m} {y}",
        # Russian
        f"{day} {ru_m} {y}",
        f"{day} {ru_m} {y} г.",
        f"{day} {ru_m} {y} года",
        f"{RU_DAYS[wd]}, {day} {ru_m} {y} г.",
        f"{day} {RU_ABBR[m]} {y} г.",
        f"{day:02d}.{d.month:02d}.{y} г.",
        f"{day}-е {ru_m} {y} г.",
        f"{day}-го {ru_m} {y} года",
        f"{RU_ORD_NOM[day - 1]} {ru_m} {y} года",
        f"{RU_ORD_NOM[day - 1]} {ru_m} {y} г.",
        f"{RU_ORD_GEN[day - 1]} {ru_m} {y} года",
        # numeric, unambiguous by convention
        f"{day:02d}.{d.month:02d}.{y}",
        f"{day}.{d.month}.{y}",
        f"{y}/{d.month:02d}/{day:02d}",
        f"{y}/{d.month}/{day}",
        f"{y}.{d.month:02d}.{day:02d}",
        f"{y}-{d.month:02d}-{day:02d}",
    ]


def all_forms(d):
    """Every string this generator can write for date d (all templates, all case variants)."""
    return {case(t) for t in templates(d) for case, _ in CASES}


def with_case(s, rng):
    fns, weights = zip(*CASES)
    return rng.choices(fns, weights)[0](s)


def render(d, rng):
    """One random surface form of date d."""
    return with_case(rng.choice(templates(d)), rng)


def split_days(rng, n_test, n_dev):
    """(test, dev, rest): dev and test each own a disjoint set of dates; train samples (with
    repetition, in new surface forms) from the rest. dates_unseen.py reuses the test dates."""
    days = [FIRST + datetime.timedelta(i) for i in range((LAST - FIRST).days + 1)]
    rng.shuffle(days)
    return days[:n_test], days[n_test:n_test + n_dev], days[n_test + n_dev:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20190305)
    ap.add_argument("--train", type=int, default=120000)
    ap.add_argument("--dev", type=int, default=2000)
    ap.add_argument("--test", type=int, default=2000)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    test_days, dev_days, train_days = split_days(rng, args.test, args.dev)
    splits = {"test": test_days, "dev": dev_days,
              "train": [rng.choice(train_days) for _ in range(args.train)]}
    os.makedirs(args.out, exist_ok=True)
    for name, ds in splits.items():
        with open(os.path.join(args.out, f"{name}.src"), "w", encoding="utf-8") as fs, \
             open(os.path.join(args.out, f"{name}.tgt"), "w", encoding="utf-8") as ft:
            for d in ds:
                fs.write(render(d, rng) + "\n")
                ft.write(d.isoformat() + "\n")
    print({k: len(v) for k, v in splits.items()})


if __name__ == "__main__":
    main()
