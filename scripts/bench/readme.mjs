// Pastes build/bench/results.md into README.md between the Performance section's markers
// (<!-- bench:begin --> ... <!-- bench:end -->): `make bench-readme` after `make bench`. A third
// argument names other markers: `node readme.mjs build/bench/vqa.md README.md bench-vqa` fills
// <!-- bench-vqa:begin --> ... <!-- bench-vqa:end -->.
import fs from 'node:fs';

const [results = 'build/bench/results.md', readme = 'README.md', name = 'bench'] = process.argv.slice(2);
const md = fs.readFileSync(results, 'utf8').trim();
const text = fs.readFileSync(readme, 'utf8');
const re = new RegExp(`(<!-- ${name}:begin[^>]*-->\\n)[\\s\\S]*?(\\n<!-- ${name}:end -->)`);
if (!re.test(text)) {
  console.error(`${readme}: no <!-- ${name}:begin --> / <!-- ${name}:end --> markers`);
  process.exit(1);
}
fs.writeFileSync(readme, text.replace(re, (_, a, b) => a + md + b));
console.log(`${readme}: ${name} block replaced from ${results}`);
