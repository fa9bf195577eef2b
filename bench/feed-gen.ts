/** A podcast feed of `items` episodes, newest first, as big hosts serve long back catalogues. */
export function generateFeed(items: number, title = 'Generated Show'): string {
  const out = [
    `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:podcast="https://podcastindex.org/namespace/1.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>${title}</title><link>https://example.org/</link><description>A generated feed</description><itunes:author>Bench</itunes:author>`,
  ];
  for (let i = items - 1; i >= 0; i--) {
    const date = new Date(Date.UTC(2010, 0, 1) + i * 86_400_000).toUTCString();
    out.push(
      `<item><title>Episode ${i}: about things &amp; stuff</title><guid isPermaLink="false">gen-${i}</guid><pubDate>${date}</pubDate>` +
        `<description><![CDATA[<p>Show notes for episode ${i}, with <a href="https://example.org/${i}">a link</a>.</p>]]></description>` +
        `<itunes:duration>${1800 + (i % 1800)}</itunes:duration><itunes:episode>${i}</itunes:episode>` +
        `<enclosure url="https://cdn.example.org/audio/${i}.mp3" type="audio/mpeg" length="${30_000_000 + i}"/>` +
        `<podcast:transcript url="https://cdn.example.org/t/${i}.vtt" type="text/vtt"/></item>`,
    );
  }
  out.push('</channel></rss>');
  return out.join('\n');
}
