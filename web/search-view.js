// The "Search" view: the beam search's trace (result.trace, see src/js/index.d.ts) drawn as a
// tree. One column per decoder step; in a column, the candidates the search ranked at that step,
// best log-probability at the top; a line joins each to its parent in the column before.
// Marked: live (kept), pruned (fell out of the beam: faint, dashed), finished (eos or the length
// limit: a thick border), the returned n-best (#1, #2, ... on the node) and the path of the
// chosen translation (#1 and all its ancestors, their edges drawn thick). Hovering or focusing a
// node (Tab / arrow keys) shows its scores in the line above the tree, and highlights its path.
// SVG, built with DOM calls only (no innerHTML: the pieces are model output).

const NS = 'http://www.w3.org/2000/svg';
const COL = 112, ROW = 28, NODE_W = 92, NODE_H = 22, PAD = 8, HEAD = 20;

function el(name, attrs = {}, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

// A piece as the heatmap shows it, cut to fit a node.
function label(token) {
  return token.length > 10 ? `${token.slice(0, 9)}…` : token;
}

function describe(n, t) {
  const what = n.status === 'finished'
    ? `finished, score ${n.score.toFixed(4)}${n.rank >= 0 ? `, n-best #${n.rank + 1}` : ''}`
    : n.status;
  return `step ${t + 1}: ${JSON.stringify(n.token)}, cumulative logp ${n.logp.toFixed(4)}, ${what}`;
}

/**
 * The tree for trace ({ steps }) as a <div> holding an info line and the SVG. The SVG has
 * id "search-tree", data-steps = the number of columns; each column is a <g class="step">,
 * each node a <g class="node"> with data-step, data-index, data-status, data-rank, and the
 * class "chosen" on the chosen translation's path.
 */
export function buildSearchTree(trace) {
  const steps = trace.steps;
  const wrap = document.createElement('div');
  const info = document.createElement('p');
  info.id = 'search-info';
  info.className = 'muted small';
  info.setAttribute('aria-live', 'polite');
  const rows = Math.max(...steps.map((s) => s.length));
  const width = PAD * 2 + steps.length * COL, height = PAD * 2 + HEAD + rows * ROW;
  const svg = el('svg', { id: 'search-tree', class: 'search-tree', width, height,
    viewBox: `0 0 ${width} ${height}`, role: 'group',
    'aria-label': `Beam search: ${steps.length} steps; the chosen translation's path is marked` });
  svg.dataset.steps = steps.length;

  // The chosen path: from the node of rank 0 back through its parents.
  const chosen = steps.map(() => -1);
  let end = null;
  steps.forEach((nodes, t) => nodes.forEach((n, i) => { if (n.rank === 0) end = [t, i]; }));
  if (end) for (let [t, i] = end; t >= 0 && i >= 0; i = steps[t][i].parent, t--) chosen[t] = i;

  const x = (t) => PAD + t * COL, y = (i) => PAD + HEAD + i * ROW;
  const edges = el('g', { class: 'edges' });
  svg.append(edges);
  const nodesOf = [];
  steps.forEach((nodes, t) => {
    const col = el('g', { class: 'step' });
    col.dataset.step = t;
    col.append(el('text', { x: x(t) + NODE_W / 2, y: PAD + 12, 'text-anchor': 'middle', class: 'step-label' }, `${t + 1}`));
    nodesOf[t] = nodes.map((n, i) => {
      if (t > 0 && n.parent >= 0) {
        const x1 = x(t - 1) + NODE_W, y1 = y(n.parent) + NODE_H / 2, x2 = x(t), y2 = y(i) + NODE_H / 2;
        const mid = (x1 + x2) / 2;
        const path = el('path', { d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`,
          class: `edge ${n.status}${chosen[t] === i && chosen[t - 1] === n.parent ? ' chosen' : ''}` });
        path.dataset.step = t;
        path.dataset.index = i;
        edges.append(path);
      }
      const g = el('g', { class: `node ${n.status}${chosen[t] === i ? ' chosen' : ''}${n.rank >= 0 ? ' nbest' : ''}`,
        transform: `translate(${x(t)},${y(i)})`, tabindex: -1, role: 'img', 'aria-label': describe(n, t) });
      Object.assign(g.dataset, { step: t, index: i, status: n.status, rank: n.rank });
      g.append(el('title', {}, describe(n, t)));
      g.append(el('rect', { width: NODE_W, height: NODE_H, rx: 4 }));
      g.append(el('text', { x: 6, y: 15 }, label(n.token)));
      if (n.rank >= 0) g.append(el('text', { x: NODE_W - 4, y: 15, 'text-anchor': 'end', class: 'rank' }, `#${n.rank + 1}`));
      col.append(g);
      return g;
    });
    svg.append(col);
  });

  // Focus: one node at a time is in the tab order (the chosen path's last node, or the first).
  const first = end ? nodesOf[end[0]][end[1]] : nodesOf[0]?.[0];
  if (first) first.setAttribute('tabindex', 0);
  const show = (g) => {
    for (const e of svg.querySelectorAll('.on-path')) e.classList.remove('on-path');
    if (!g) {
      info.textContent = 'Hover or focus a node to see its scores.';
      return;
    }
    let t = Number(g.dataset.step), i = Number(g.dataset.index);
    info.textContent = describe(steps[t][i], t);
    for (; t >= 0 && i >= 0; i = steps[t][i].parent, t--) {
      nodesOf[t][i].classList.add('on-path');
      svg.querySelector(`path.edge[data-step="${t}"][data-index="${i}"]`)?.classList.add('on-path');
    }
  };
  show(null);
  svg.addEventListener('pointerover', (e) => show(e.target.closest?.('g.node') ?? null));
  svg.addEventListener('pointerleave', () => show(null));
  svg.addEventListener('focusin', (e) => show(e.target.closest?.('g.node') ?? null));
  svg.addEventListener('keydown', (e) => {
    const g = e.target.closest?.('g.node');
    if (!g) return;
    let t = Number(g.dataset.step), i = Number(g.dataset.index);
    if (e.key === 'ArrowLeft' && t > 0) [t, i] = [t - 1, Math.max(0, steps[t][i].parent)];
    else if (e.key === 'ArrowRight' && t + 1 < steps.length) [t, i] = [t + 1, Math.max(0, steps[t + 1].findIndex((n) => n.parent === i))];
    else if (e.key === 'ArrowUp' && i > 0) i--;
    else if (e.key === 'ArrowDown' && i + 1 < steps[t].length) i++;
    else return;
    e.preventDefault();
    g.setAttribute('tabindex', -1);
    const next = nodesOf[t][i];
    next.setAttribute('tabindex', 0);
    next.focus();
  });
  wrap.append(info, svg);
  return wrap;
}
