// dolos.mjs LANGUAGE TEMPLATE REPORT FILE...: Dolos's analysis of FILEs, with
// the code they share with TEMPLATE ignored, written as Dolos's own report:
// REPORT/data/ holds the CSV files the Dolos command line writes (pairs.csv,
// files.csv, kgrams.csv, metadata.csv) and REPORT/ its web viewer, which reads
// them. make similarity runs it with Node.js from build/similarity/, where npm
// installed @dodona/dolos-lib and @dodona/dolos-web (grader/similarity/package.json).
import { Dolos } from "@dodona/dolos-lib";
import { webroot } from "@dodona/dolos-web";
import { csvFormatRows } from "d3-dsv";
import { cp, mkdir, writeFile } from "node:fs/promises";

const [language, template, reportDir, ...files] = process.argv.slice(2);

const dolos = new Dolos({ language, reportName: "Lab 2: " + files[0].split("/").pop() });
const report = await dolos.analyzePaths(files, template);

// One CSV file: a header, then one row per item.
function csv(items, columns) {
  return csvFormatRows([Object.keys(columns), ...items.map(item =>
    Object.values(columns).map(column => column(item)))]) + "\n";
}

await cp(webroot(), reportDir, { recursive: true });
await mkdir(`${reportDir}/data`, { recursive: true });
// The columns the web viewer reads, as the Dolos command line writes them.
await writeFile(`${reportDir}/data/pairs.csv`, csv(report.allPairs(), {
  id: p => p.id,
  leftFileId: p => p.leftFile.id,
  leftFilePath: p => p.leftFile.path,
  rightFileId: p => p.rightFile.id,
  rightFilePath: p => p.rightFile.path,
  similarity: p => p.similarity,
  totalOverlap: p => p.overlap,
  longestFragment: p => p.longest,
  leftCovered: p => p.leftCovered,
  rightCovered: p => p.rightCovered,
}));
await writeFile(`${reportDir}/data/kgrams.csv`, csv(report.sharedFingerprints(), {
  id: s => s.id,
  hash: s => s.hash,
  ignored: s => (s.ignored ? "true" : "false"),
  data: s => s.kgram?.join(" ") || null,
  files: s => JSON.stringify(s.files().map(f => f.id)),
}));
await writeFile(`${reportDir}/data/files.csv`, csv(
  report.entries().concat(report.ignoredEntries()), {
    id: f => f.file.id,
    ignored: f => (f.isIgnored ? "true" : "false"),
    path: f => f.file.path,
    content: f => f.file.content,
    amountOfKgrams: f => f.kgrams.length,
    ast: f => JSON.stringify(f.file.tokens),
    mapping: f => JSON.stringify(f.file.mapping),
    extra: f => JSON.stringify(f.file.extra),
  }));
await writeFile(`${reportDir}/data/metadata.csv`, csv(Object.entries(report.metadata()), {
  property: ([key]) => key,
  value: ([, value]) => (value == null ? "null" : value.toString()),
  type: ([, value]) => typeof value,
}));
