// Varied test strings for the tokenizer agreement tests: hand-picked hard cases plus seeded
// random mixes of them. Deterministic (seeded), so a mismatch names the same string every run.

import { mulberry32 } from '../../../shared/random.js';

const HAND: string[] = [
  '',
  ' ',
  '   \t\n  \r\n ',
  'Hello, world!',
  'The quick brown fox jumps over the lazy dog.',
  'HELLO WORLD in CAPITALS and MiXeD cAsE',
  "Don't stop-believing; it's 5 o'clock (somewhere)...",
  'Café résumé naïve Ångström Zoë façade crème brûlée',
  'Tiếng Việt có dấu: Hà Nội, Thành phố Hồ Chí Minh',
  'Zażółć gęślą jaźń — Łódź, Kraków',
  'Straße, Größe, Fußgänger über Äpfel',
  'İstanbul ılık ışık, ÇĞÖŞÜ',
  'ΟΔΟΣ οδός Σίσυφος ΣΊΣΥΦΟΣ',
  'Москва — столица России. Ёлка!',
  'مرحبا بالعالم، كيف حالك؟',
  'שלום עולם, מה שלומך?',
  'नमस्ते दुनिया, आप कैसे हैं?',
  'สวัสดีชาวโลก ภาษาไทย',
  '中文分词测试：我爱北京天安门。',
  '日本語のテキスト、カタカナとひらがな。東京タワー',
  '한국어 텍스트 서울특별시 안녕하세요',
  '混合mixed中文English文本123数字',
  '😀 emoji 🎉 party 👍🏽 thumbs 🇫🇷 flag',
  '👨‍👩‍👧‍👦 family zwj sequence',
  '❤️ red heart with variation selector ✔︎',
  'pneumonoultramicroscopicsilicovolcanoconiosis',
  'a'.repeat(99),
  'a'.repeat(100),
  'b'.repeat(101),
  'x'.repeat(300) + ' then normal words',
  'https://example.com/path/to/resource?query=value&other=42#fragment',
  'email: someone.else@example.org, phone +1 (555) 010-9999',
  '3.14159 1,000,000 2024-11-27 10:30:00 $99.99 €5 ¥100 50%',
  'C++ and C# and F# and .NET and node.js',
  '“Smart quotes” ‘single’ «guillemets» „German“ — em dash – en dash … ellipsis',
  '¡Hola! ¿Qué tal? ¿Cómo estás?',
  'tabs\there\tand\nnewlines\nand\r\ncrlf',
  'control\u0000chars\u0007in\u001bthe\u0008middle',
  '\u001b[31mred ANSI\u001b[0m text',
  'zero\u200bwidth\u200cjoiners\u200dhere',
  '\ufeffBOM at start',
  'non\u00a0breaking\u2009thin\u3000ideographic spaces',
  'line\u2028separator\u2029paragraph',
  'replacement \ufffd char',
  'soft\u00adhyphen',
  '[CLS] literal special tokens [SEP] in text [MASK]',
  'a[MASK]b and [PAD][UNK] glued',
  '[cls] lowercase lookalike [sep]',
  'superscript² subscript₂ fractions ½ ¼ ™ © ®',
  'ﬁ ligature ﬀ ﬂ and full-width ＡＢＣ１２３',
  'combining: e\u0301 a\u0300 o\u0308 n\u0303',
  'math ∑∫∂√∞≈≠≤≥ arrows →←↑↓',
  '#hashtag @mention $cashtag %percent ^caret &amp; *star',
  '!!!???...,,,;;;:::',
  '((nested [brackets {and} braces]))',
  'UPPERCASEWORDWITHOUTSPACES',
  'camelCaseIdentifierName snake_case_name kebab-case-name',
  '0123456789 00000000000000000000000000 9999999999',
  'Ω ω µ μ ß ẞ ŉ ǰ',
];

const POOL = HAND.filter((s) => s.length > 0 && s.length < 120).flatMap((s) => s.split(/(\s+)/));

/** The hand-picked strings plus `random` seeded mixes of their pieces. */
export function tokenizerTestStrings(random = 240, seed = 7): string[] {
  const rnd = mulberry32(seed);
  const out = [...HAND];
  for (let i = 0; i < random; i++) {
    const n = 1 + Math.floor(rnd() * 12);
    let s = '';
    for (let j = 0; j < n; j++) {
      const piece = POOL[Math.floor(rnd() * POOL.length)];
      // Sometimes glue pieces without a space, or take a slice mid-word (and mid-surrogate-safe).
      const chars = [...piece];
      const cut = rnd() < 0.2 ? chars.slice(Math.floor(rnd() * chars.length)).join('') : piece;
      s += (rnd() < 0.3 ? '' : ' ') + cut;
    }
    out.push(s);
  }
  return out;
}
