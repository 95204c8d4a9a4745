// Pastes build/bench/results.md into README.md between the Performance section's markers
// (<!-- bench:begin --> ... <!-- bench:end -->): `make bench-readme` after `make bench`.
import fs from 'node:fs';

const [results = 'build/bench/results.md', readme = 'README.md'] = process.argv.slice(2);
const md = fs.readFileSync(results, 'utf8').trim();
const text = fs.readFileSync(readme, 'utf8');
const re = /(<!-- bench:begin[^>]*-->\n)[\s\S]*?(\n<!-- bench:end -->)/;
if (!re.test(text)) {
  console.error(`${readme}: no <!-- bench:begin --> / <!-- bench:end --> markers`);
  process.exit(1);
}
fs.writeFileSync(readme, text.replace(re, (_, a, b) => a + md + b));
console.log(`${readme}: Performance table replaced from ${results}`);
