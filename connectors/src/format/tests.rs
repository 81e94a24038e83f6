use std::io::Write;

use super::*;

fn read(bytes: &[u8], format: &Format) -> Vec<Result<String, (Place, String)>> {
    records(Box::new(std::io::Cursor::new(bytes.to_vec())), format)
        .map(|r| r.map(|v| v.to_json_string()).map_err(|b| (b.place, b.reason)))
        .collect()
}

fn ok(items: &[Result<String, (Place, String)>]) -> Vec<String> {
    items.iter().filter_map(|r| r.as_ref().ok().cloned()).collect()
}

const DOCS: [&str; 3] = [r#"{"a":1,"b":"x"}"#, r#"{"a":2.5,"b":null}"#, r#"{"a":-3,"b":"y, z"}"#];

#[test]
fn json_in_every_layout_reads_the_same_documents() {
    let ndjson = DOCS.join("\n");
    let array = format!("[\n  {}\n]", DOCS.join(",\n  "));
    let pretty = DOCS.iter().map(|d| d.replace(",\"", ",\n  \"")).collect::<Vec<_>>().join("\n");
    let concatenated = DOCS.concat();
    for input in [&ndjson, &array, &pretty, &concatenated] {
        let items = read(input.as_bytes(), &Format::Json);
        assert_eq!(ok(&items), DOCS, "{input}");
        assert_eq!(items.len(), 3, "{input}");
    }
}

#[test]
fn a_malformed_json_record_is_reported_with_its_line_and_skipped() {
    let input = "{\"a\":1,\"b\":\"x\"}\n{\"a\": }\n{\"a\":\"unterminated}\n{\"a\":2.5,\"b\":null}\n{\"a\":-3,\"b\":\"y, z\"}\n";
    let items = read(input.as_bytes(), &Format::Json);
    assert_eq!(ok(&items), DOCS);
    let bad: Vec<_> = items.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(bad.iter().map(|b| b.0).collect::<Vec<_>>(), [Place::Line(2), Place::Line(3)]);
    assert!(bad[0].1.contains("malformed JSON"), "{}", bad[0].1);
    // Pretty-printed documents with nested objects at the start of lines stay whole, and a
    // stray comma between documents is passed over.
    let pretty = "{\n\"items\": [\n{\n\"id\": 1\n}\n]\n},\n{\"a\":2}\n,";
    assert_eq!(ok(&read(pretty.as_bytes(), &Format::Json)), [r#"{"items":[{"id":1}]}"#, r#"{"a":2}"#]);
    assert_eq!(read(pretty.as_bytes(), &Format::Json).len(), 2);
    // An array that is not closed says so after its last element.
    let items = read(b"[{\"a\":1}, {\"a\":2}", &Format::Json);
    assert_eq!(ok(&items).len(), 2);
    assert!(items[2].as_ref().is_err_and(|b| b.1.contains("not closed")));
}

#[test]
fn csv_is_typed_the_way_a_user_expects() {
    let input = "a,b\n1,x\n2.5,\n-3,\"y, z\"\n";
    assert_eq!(ok(&read(input.as_bytes(), &Format::for_name(&Format::Auto, "d.csv"))), DOCS);
    let typed = |s: &str| csv::typed(s).to_json_string();
    assert_eq!(
        ["007", "0", "-12", "1e3", "0.5", ".5", "true", "False", "NaN", "inf", "1-2", "", "9999999999999999999"].map(typed),
        ["\"007\"", "0", "-12", "1000.0", "0.5", "0.5", "true", "\"False\"", "\"NaN\"", "\"inf\"", "\"1-2\"", "null", "1e+19"]
    );
}

#[test]
fn a_csv_row_of_the_wrong_width_is_reported_and_skipped() {
    let items = read(b"a,b\n1,x\n7\n2.5,\n-3,\"y, z\"\n", &Format::named("csv").unwrap());
    assert_eq!(ok(&items), DOCS);
    let bad = items.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert_eq!(bad.0, Place::Line(3));
    assert!(bad.1.contains("1 fields, but there are 2 columns"), "{}", bad.1);
    let tsv = read(b"a\tb\n1\tx\n", &Format::named("tsv").unwrap());
    assert_eq!(ok(&tsv), [DOCS[0]]);
    let named = Format::Csv(CsvOptions { header: false, column_names: Some(vec!["a".into(), "b".into()]), ..Default::default() });
    assert_eq!(ok(&read(b"1,x\n", &named)), [DOCS[0]]);
}

#[test]
fn compressed_input_is_told_by_its_first_bytes() {
    let ndjson = DOCS.join("\n");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(ndjson.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let zst = zstd::encode_all(ndjson.as_bytes(), 1).unwrap();
    for input in [gz, zst] {
        assert_eq!(ok(&read(&input, &Format::Json)), DOCS);
    }
    // A truncated stream reads what it can and says where it broke.
    let zst = zstd::encode_all(ndjson.as_bytes(), 1).unwrap();
    let items = read(&zst[..zst.len() - 4], &Format::Json);
    assert!(items.last().unwrap().is_err());
}

#[test]
fn formats_are_told_by_name() {
    let auto = Format::Auto;
    assert_eq!(auto.for_name("a/b.ndjson.gz"), Format::Json);
    assert_eq!(auto.for_name("b.CSV.zst"), Format::Csv(CsvOptions::default()));
    assert!(matches!(auto.for_name("b.tsv"), Format::Csv(CsvOptions { separator: '\t', .. })));
    assert_eq!(Format::named("xml"), None);
}
