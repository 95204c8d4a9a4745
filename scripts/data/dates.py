#!/usr/bin/python3
"""Build the `dates` corpus: human-written dates in English, French and Russian -> ISO 8601.

Every input names exactly one date; the conventions that make this true:
  * numeric forms are written with the year in full, in two orders only: day.month.year with dots
    ("05.03.2019", the European and Russian convention) and year-month-day with dashes or slashes
    ("2019/03/05"); the US month/day order is only used with a spelled-out month ("March 5, 2019");
  * two-digit years appear only with a spelled-out month ("March 5th '19", "5 mars 19"), and map
    into 1950..2049 (50..99 -> 19xx, 00..49 -> 20xx); the corpus only draws dates in that range;
  * weekday names, when written, are the true weekday of the date.
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


def yy(d):
    return f"{d.year % 100:02d}"


def render(d, rng):
    """One random surface form of date d."""
    m, day, y, wd = d.month - 1, d.day, d.year, d.weekday()
    en_m, en_a = EN_MONTHS[m], EN_MONTHS[m][:3]
    forms = [
        # English
        lambda: f"{day} {en_m} {y}",
        lambda: f"{en_m} {day}, {y}",
        lambda: f"{en_m} {ordinal(day)}, {y}",
        lambda: f"{en_m} {ordinal(day)} '{yy(d)}",
        lambda: f"{EN_DAYS[wd]}, {day} {en_m} {y}",
        lambda: f"{EN_DAYS[wd]}, {en_m} {day}, {y}",
        lambda: f"{EN_DAYS[wd][:3]} {day} {en_a} {y}",
        lambda: f"{en_a} {day}, {y}",
        lambda: f"{day} {en_a} {y}",
        lambda: f"{day}-{en_a}-{y}",
        lambda: f"the {ordinal(day)} of {en_m}, {y}",
        lambda: f"{ordinal(day)} {en_m} {y}",
        lambda: f"{en_m.upper()} {day}, {y}",
        lambda: f"{day} {en_m.lower()} {y}",
        # French
        lambda: f"{'1er' if day == 1 else day} {FR_MONTHS[m]} {y}",
        lambda: f"{FR_DAYS[wd]} {'1er' if day == 1 else day} {FR_MONTHS[m]} {y}",
        lambda: f"le {'1er' if day == 1 else day} {FR_MONTHS[m]} {y}",
        lambda: f"{day} {FR_ABBR[m]} {y}",
        lambda: f"{day} {FR_MONTHS[m]} {yy(d)}",
        lambda: f"{FR_DAYS[wd].capitalize()} {day} {FR_MONTHS[m]} {y}",
        # Russian
        lambda: f"{day} {RU_MONTHS_GEN[m]} {y}",
        lambda: f"{day} {RU_MONTHS_GEN[m]} {y} г.",
        lambda: f"{day} {RU_MONTHS_GEN[m]} {y} года",
        lambda: f"{RU_DAYS[wd]}, {day} {RU_MONTHS_GEN[m]} {y} г.",
        lambda: f"{day} {RU_ABBR[m]} {y} г.",
        lambda: f"{day:02d}.{d.month:02d}.{y} г.",
        # numeric, unambiguous by convention
        lambda: f"{day:02d}.{d.month:02d}.{y}",
        lambda: f"{day}.{d.month}.{y}",
        lambda: f"{y}/{d.month:02d}/{day:02d}",
        lambda: f"{y}.{d.month:02d}.{day:02d}",
        lambda: f"{y}-{d.month:02d}-{day:02d}",
    ]
    return rng.choice(forms)()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20190305)
    ap.add_argument("--train", type=int, default=60000)
    ap.add_argument("--dev", type=int, default=2000)
    ap.add_argument("--test", type=int, default=2000)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    days = [FIRST + datetime.timedelta(i) for i in range((LAST - FIRST).days + 1)]
    rng.shuffle(days)
    # dev and test each own a disjoint set of dates; train samples (with repetition, in new
    # surface forms) from the remaining dates.
    test_days, dev_days, train_days = days[:args.test], days[args.test:args.test + args.dev], \
        days[args.test + args.dev:]
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
