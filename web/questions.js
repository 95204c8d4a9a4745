// Example questions about a scene, for the Images view's Ask mode (ask-view.js), written from the
// scene's layout with the templates the VQA model was trained on (scripts/data/scenes_vqa.py:
// TYPES, PLURALS, GROUPS, DIRECTIONS), so that every word is one the model knows (the page
// also checks that against the loaded model: ask-view.js, knownWords). No DOM: the e2e test
// imports this module in Node to check the page's examples against the Node API.
//
// A layout is 9 cells (cell = 3 * row + col), each null or a class index; names is
// { classes, phrases, places } from web/scenes/scenes.json ("t-shirt" / "a t-shirt" /
// "in the top left").

// As scenes_vqa.py's PLURALS (per class), GROUPS ("shoes": sandal, sneaker, ankle boot) and
// DIRECTIONS (the adjacent cell: [words, row step, column step]).
export const PLURALS = ['t-shirts', 'pairs of trousers', 'pullovers', 'dresses', 'coats', 'sandals', 'shirts',
  'sneakers', 'bags', 'ankle boots'];
export const GROUPS = [['shoes', [5, 7, 9]]];
export const DIRECTIONS = [['left of', 0, -1], ['right of', 0, 1], ['above', -1, 0], ['below', 1, 0]];
export const TYPES = ['what', 'where', 'count', 'exists', 'relation'];

/** Every word the templates can write (scenes_vqa.py's vocabulary() without the specials). */
export function templateWords(names) {
  const texts = ['what is', 'where is the', 'how many are there', 'is there', '?', ...names.places, ...names.phrases,
    ...PLURALS, ...GROUPS.map((g) => g[0]), ...DIRECTIONS.map((d) => d[0])];
  return [...new Set(texts.flatMap((t) => t.split(' ')))];
}

/**
 * The question's words as the engine reads them (models/FORMAT.md, VQA step 3): ASCII A-Z in
 * lower case, "?" and "," words of their own, split on ASCII white space. The page lines them up
 * with the words the model read (its "<unk>"s) to name the words it does not know.
 */
export function questionWords(text) {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase()).replace(/[?,]/g, ' $& ')
    .split(/[ \t\n\r\v\f]+/).filter(Boolean);
}

// "the dress", "the pair of trousers", "the ankle boot" (scenes_vqa.py's the()).
const the = (names, k) => `the ${names.phrases[k].split(' ').slice(1).join(' ')}`;
const sentence = (s) => s[0].toUpperCase() + s.slice(1) + '?';

/**
 * Every question the templates can ask about the layout, with the scene's true answer (as
 * scenes_vqa.py's candidates(): "where" and relations only for a class that occurs exactly once,
 * relations only towards a cell inside the grid): [{ type, text, answer, ref, target }], text as
 * shown ("What is left of the coat?"); ref: the named item's cell, target: the cell the answer
 * reports (-1: none).
 */
export function allQuestions(layout, names) {
  const { classes, places } = names;
  const count = classes.map((_, k) => layout.filter((c) => c === k).length);
  const out = [];
  const add = (type, words, answer, ref = -1, target = -1) => out.push({ type, text: sentence(words), answer, ref, target });
  layout.forEach((k, cell) => add('what', `what is ${places[cell]}`, k === null ? 'nothing' : classes[k], -1, cell));
  layout.forEach((k, cell) => {
    if (k === null || count[k] !== 1) return;
    add('where', `where is ${the(names, k)}`, places[cell], cell, cell);
    const r = Math.floor(cell / 3), col = cell % 3;
    for (const [words, dr, dc] of DIRECTIONS) {
      const rr = r + dr, cc = col + dc;
      if (rr < 0 || rr > 2 || cc < 0 || cc > 2) continue;
      const nb = rr * 3 + cc;
      add('relation', `what is ${words} ${the(names, k)}`, layout[nb] === null ? 'nothing' : classes[layout[nb]], cell, nb);
    }
  });
  classes.forEach((_, k) => add('count', `how many ${PLURALS[k]} are there`, String(count[k])));
  for (const [name, members] of GROUPS) add('count', `how many ${name} are there`, String(members.reduce((s, k) => s + count[k], 0)));
  names.phrases.forEach((p, k) => add('exists', `is there ${p}`, count[k] ? 'yes' : 'no'));
  return out;
}

/**
 * A few example questions for the layout, each type when the scene allows it (an empty scene
 * has no "where" or relation): two relations (one towards an occupied cell when there is one),
 * "where", "what" at an occupied and at an empty place, a count and an existence question
 * with each answer. Deterministic: the same layout gives the same examples.
 */
export function exampleQuestions(layout, names) {
  const all = allQuestions(layout, names);
  const of = (type, pred = () => true) => all.filter((q) => q.type === type && pred(q));
  const picked = [];
  const pick = (qs) => {
    const q = qs.find((x) => !picked.includes(x));
    if (q) picked.push(q);
    return q;
  };
  const full = (q) => q.answer !== 'nothing';
  const r1 = pick(of('relation', full)) ?? pick(of('relation'));
  // the second relation about another item, in another direction when it can
  pick([...of('relation', (q) => r1 && q.ref !== r1.ref && full(q)), ...of('relation', (q) => r1 && q.ref !== r1.ref),
    ...of('relation')]);
  pick([...of('where', (q) => !r1 || q.ref !== r1.ref), ...of('where')]);
  pick(of('what', full));
  pick(of('what', (q) => !full(q)));
  // the count of the most frequent class (ties: the first), else the shoes
  const counts = of('count');
  pick([...counts.slice(0, -GROUPS.length)].sort((a, b) => Number(b.answer) - Number(a.answer)).filter((q) => q.answer !== '0'))
    ?? pick(counts.slice(-GROUPS.length));
  pick(of('exists', (q) => q.answer === 'yes'));
  pick(of('exists', (q) => q.answer === 'no'));
  return picked;
}
