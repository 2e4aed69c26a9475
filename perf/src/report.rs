//! Output: a text table, a JSON file and a hand-written SVG bar chart.

use std::fmt::Write as _;

use crate::stats::Outcome;

/// Figures outside the workloads (ceilings), as (name, value, unit).
pub type Ceilings = Vec<(String, f64, &'static str)>;

fn fmt_fig(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A table of outcomes; when a Samba outcome matches an "ours" one, a ratio column.
pub fn table(outcomes: &[Outcome]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<24} {:<10} {:<6} {:>10} {:>6} {:>10} {:>9} {:>9} {:>8} {:>7}",
        "workload",
        "security",
        "server",
        "figure",
        "unit",
        "ops/s",
        "p50 us",
        "p99 us",
        "ratio",
        "errors"
    );
    for o in outcomes {
        let (v, unit) = o.headline();
        let ratio = if o.server == "samba" {
            outcomes
                .iter()
                .find(|x| {
                    x.server == "ours" && x.workload == o.workload && x.security == o.security
                })
                .map(|ours| {
                    let (b, _) = ours.headline();
                    if v > 0.0 {
                        format!("{:.2}x", b / v)
                    } else {
                        "-".into()
                    }
                })
                .unwrap_or_default()
        } else {
            String::new()
        };
        let extra = o
            .extra
            .map(|(x, u)| format!("  [{x:.1} {u}]"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "{:<24} {:<10} {:<6} {:>10} {:>6} {:>10.0} {:>9} {:>9} {:>8} {:>7}{}{}",
            o.workload,
            o.security,
            o.server,
            fmt_fig(v),
            unit,
            o.ops_s(),
            o.p50_us,
            o.p99_us,
            ratio,
            o.errors,
            extra,
            o.error
                .as_ref()
                .map(|e| format!("  ({e})"))
                .unwrap_or_default(),
        );
    }
    s
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_num(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.3}")
    } else {
        "null".into()
    }
}

/// The outcomes and ceilings as a JSON document.
pub fn json(outcomes: &[Outcome], ceilings: &Ceilings, machine: &str) -> String {
    let mut s = String::from("{\n");
    let _ = writeln!(s, "  \"machine\": {},", json_str(machine));
    s.push_str("  \"ceilings\": [\n");
    for (i, (name, v, unit)) in ceilings.iter().enumerate() {
        let _ = write!(
            s,
            "    {{\"name\": {}, \"value\": {}, \"unit\": {}}}",
            json_str(name),
            json_num(*v),
            json_str(unit)
        );
        s.push_str(if i + 1 < ceilings.len() { ",\n" } else { "\n" });
    }
    s.push_str("  ],\n  \"results\": [\n");
    for (i, o) in outcomes.iter().enumerate() {
        let _ = write!(
            s,
            "    {{\"server\": {}, \"workload\": {}, \"security\": {}, \"ops\": {}, \"bytes\": {}, \
             \"secs\": {}, \"mib_s\": {}, \"ops_s\": {}, \"p50_us\": {}, \"p99_us\": {}, \
             \"errors\": {}, \"error\": {}, \"extra\": {}}}",
            json_str(&o.server),
            json_str(&o.workload),
            json_str(&o.security),
            o.ops,
            o.bytes,
            json_num(o.secs),
            json_num(o.mib_s()),
            json_num(o.ops_s()),
            o.p50_us,
            o.p99_us,
            o.errors,
            o.error.as_deref().map_or("null".into(), json_str),
            o.extra.map_or("null".into(), |(v, u)| format!(
                "{{\"value\": {}, \"unit\": {}}}",
                json_num(v),
                json_str(u)
            )),
        );
        s.push_str(if i + 1 < outcomes.len() { ",\n" } else { "\n" });
    }
    s.push_str("  ]\n}\n");
    s
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A horizontal bar chart: one group per workload+security, one bar per server, each group
/// scaled to its own maximum (units differ between workloads) and labelled with its value.
pub fn svg(outcomes: &[Outcome], title: &str) -> String {
    let mut groups: Vec<(String, String)> = Vec::new();
    for o in outcomes {
        let key = (o.workload.clone(), o.security.clone());
        if !groups.contains(&key) {
            groups.push(key);
        }
    }
    let servers: Vec<String> = {
        let mut v: Vec<String> = Vec::new();
        for o in outcomes {
            if !v.contains(&o.server) {
                v.push(o.server.clone());
            }
        }
        v
    };
    let colors = ["#d95f02", "#1b9e77", "#7570b3", "#e7298a"];
    let bar_h = 12;
    let group_h = bar_h * servers.len().max(1) + 8;
    let (left, width) = (300, 460);
    let height = 60 + group_h * groups.len() + 20;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"11\">",
        left + width + 120
    );
    let _ = writeln!(s, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    let _ = writeln!(
        s,
        "<text x=\"10\" y=\"20\" font-size=\"14\">{}</text>",
        xml(title)
    );
    for (i, server) in servers.iter().enumerate() {
        let x = 10 + i * 110;
        let _ = writeln!(
            s,
            "<rect x=\"{x}\" y=\"30\" width=\"10\" height=\"10\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"39\">{}</text>",
            colors[i % colors.len()],
            x + 14,
            xml(server)
        );
    }
    for (g, (workload, security)) in groups.iter().enumerate() {
        let y0 = 55 + g * group_h;
        let members: Vec<&Outcome> = outcomes
            .iter()
            .filter(|o| &o.workload == workload && &o.security == security)
            .collect();
        let max = members
            .iter()
            .map(|o| o.headline().0)
            .fold(0.0f64, f64::max);
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{} ({})</text>",
            left - 6,
            y0 + group_h / 2,
            xml(workload),
            xml(security)
        );
        for (i, server) in servers.iter().enumerate() {
            let Some(o) = members.iter().find(|o| &o.server == server) else {
                continue;
            };
            let (v, unit) = o.headline();
            let w = if max > 0.0 {
                (v / max * width as f64) as usize
            } else {
                0
            };
            let y = y0 + i * bar_h;
            let _ = writeln!(
                s,
                "<rect x=\"{left}\" y=\"{y}\" width=\"{w}\" height=\"{}\" fill=\"{}\"/>\
                 <text x=\"{}\" y=\"{}\">{} {unit}</text>",
                bar_h - 2,
                colors[i % colors.len()],
                left + w + 4,
                y + bar_h - 3,
                fmt_fig(v)
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Outcome> {
        let o = |server: &str, bytes| Outcome {
            server: server.into(),
            workload: "seq-read <1M>".into(),
            security: "plain".into(),
            ops: 10,
            bytes,
            secs: 1.0,
            ..Outcome::default()
        };
        vec![o("ours", 200 << 20), o("samba", 100 << 20)]
    }

    #[test]
    fn table_shows_the_ratio() {
        let t = table(&sample());
        assert!(t.contains("2.00x"), "{t}");
    }

    #[test]
    fn json_and_svg_are_escaped() {
        let j = json(&sample(), &vec![("tcp \"x\"".into(), 1.0, "MiB/s")], "m");
        assert!(j.contains("tcp \\\"x\\\""));
        assert!(j.contains("\"mib_s\": 200.000"));
        let s = svg(&sample(), "t");
        assert!(s.contains("seq-read &lt;1M&gt;"));
        assert_eq!(s.matches("<rect x=\"300\"").count(), 2);
    }
}
