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

/// Label of our server in outcomes; every other label is a peer compared with it.
pub const OURS: &str = "ours";

/// For a peer's outcome, ours/peer of the headline figures of the matching "ours" run (same
/// workload and security); `None` for our own rows, a missing or failed match, or "n/a".
pub fn ratio(outcomes: &[Outcome], o: &Outcome) -> Option<f64> {
    if o.server == OURS || o.na.is_some() {
        return None;
    }
    let ours = outcomes.iter().find(|x| {
        x.server == OURS && x.workload == o.workload && x.security == o.security && x.na.is_none()
    })?;
    let (b, _) = ours.headline();
    let (v, _) = o.headline();
    (v > 0.0 && b > 0.0).then(|| b / v)
}

/// A table of outcomes; each peer's row carries the ratio ours/peer, "n/a" rows their reason.
pub fn table(outcomes: &[Outcome]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<24} {:<10} {:<10} {:>10} {:>6} {:>10} {:>9} {:>9} {:>8} {:>7}",
        "workload",
        "security",
        "server",
        "figure",
        "unit",
        "ops/s",
        "p50 us",
        "p99 us",
        "ours/x",
        "errors"
    );
    for o in outcomes {
        if let Some(why) = &o.na {
            let _ = writeln!(
                s,
                "{:<24} {:<10} {:<10} {:>10} {:>6} {:>10} {:>9} {:>9} {:>8} {:>7}  (n/a: {why})",
                o.workload, o.security, o.server, "n/a", "", "-", "-", "-", "-", "-",
            );
            continue;
        }
        let (v, unit) = o.headline();
        let ratio = match ratio(outcomes, o) {
            Some(r) => format!("{r:.2}x"),
            None if o.server == OURS => String::new(),
            None => "-".into(),
        };
        let extra = o
            .extra
            .map(|(x, u)| format!("  [{x:.1} {u}]"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "{:<24} {:<10} {:<10} {:>10} {:>6} {:>10.0} {:>9} {:>9} {:>8} {:>7}{}{}",
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

/// One line per peer: how many comparable runs, on how many ours is ahead, the geometric
/// mean and the lowest ratio ours/peer, and how many runs were "n/a".
pub fn summary(outcomes: &[Outcome]) -> String {
    let mut peers: Vec<&str> = Vec::new();
    for o in outcomes {
        if o.server != OURS && !peers.contains(&o.server.as_str()) {
            peers.push(&o.server);
        }
    }
    let mut s = String::new();
    for peer in peers {
        let rows: Vec<&Outcome> = outcomes.iter().filter(|o| o.server == peer).collect();
        let ratios: Vec<(f64, &Outcome)> = rows
            .iter()
            .filter_map(|o| ratio(outcomes, o).map(|r| (r, *o)))
            .collect();
        let na = rows.iter().filter(|o| o.na.is_some()).count();
        if ratios.is_empty() {
            let _ = writeln!(s, "ours/{peer}: no comparable runs ({na} n/a)");
            continue;
        }
        let ahead = ratios.iter().filter(|(r, _)| *r > 1.0).count();
        let geo = (ratios.iter().map(|(r, _)| r.ln()).sum::<f64>() / ratios.len() as f64).exp();
        let (low, worst) = ratios.iter().fold((f64::INFINITY, None), |(m, w), (r, o)| {
            if *r < m { (*r, Some(*o)) } else { (m, w) }
        });
        let worst = worst
            .map(|o| format!(" ({} {})", o.workload, o.security))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "ours/{peer}: ahead on {ahead} of {} runs, geometric mean {geo:.2}x, lowest \
             {low:.2}x{worst}, {na} n/a",
            ratios.len()
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

/// The outcomes, ceilings and notes (e.g. a peer that did not start) as a JSON document.
pub fn json(outcomes: &[Outcome], ceilings: &Ceilings, machine: &str, notes: &[String]) -> String {
    let mut s = String::from("{\n");
    let _ = writeln!(s, "  \"machine\": {},", json_str(machine));
    let notes: Vec<String> = notes.iter().map(|n| json_str(n)).collect();
    let _ = writeln!(s, "  \"notes\": [{}],", notes.join(", "));
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
             \"errors\": {}, \"error\": {}, \"extra\": {}, \"na\": {}, \"ours_ratio\": {}}}",
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
            o.na.as_deref().map_or("null".into(), json_str),
            ratio(outcomes, o).map_or("null".into(), json_num),
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
            let y = y0 + i * bar_h;
            if o.na.is_some() {
                let _ = writeln!(
                    s,
                    "<text x=\"{}\" y=\"{}\" fill=\"{}\">n/a</text>",
                    left + 4,
                    y + bar_h - 3,
                    colors[i % colors.len()],
                );
                continue;
            }
            let (v, unit) = o.headline();
            let w = if max > 0.0 {
                (v / max * width as f64) as usize
            } else {
                0
            };
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
        let j = json(
            &sample(),
            &vec![("tcp \"x\"".into(), 1.0, "MiB/s")],
            "m",
            &[],
        );
        assert!(j.contains("tcp \\\"x\\\""));
        assert!(j.contains("\"mib_s\": 200.000"));
        let s = svg(&sample(), "t");
        assert!(s.contains("seq-read &lt;1M&gt;"));
        assert_eq!(s.matches("<rect x=\"300\"").count(), 2);
    }

    /// Ours, Samba, a second peer at a quarter of ours, and an "n/a" run of that peer.
    fn with_peer() -> Vec<Outcome> {
        let mut v = sample();
        v.push(Outcome {
            server: "smb-server".into(),
            workload: "seq-read <1M>".into(),
            security: "plain".into(),
            ops: 10,
            bytes: 50 << 20,
            secs: 1.0,
            ..Outcome::default()
        });
        v.push(Outcome {
            server: "smb-server".into(),
            workload: "seq-read <1M>".into(),
            security: "sign-gmac".into(),
            na: Some("AesGmac signing not offered".into()),
            ..Outcome::default()
        });
        v
    }

    #[test]
    fn every_peer_gets_its_own_ratio() {
        let v = with_peer();
        assert_eq!(ratio(&v, &v[0]), None);
        assert_eq!(ratio(&v, &v[1]), Some(2.0));
        assert_eq!(ratio(&v, &v[2]), Some(4.0));
        assert_eq!(ratio(&v, &v[3]), None);
        let t = table(&v);
        assert!(t.contains("2.00x") && t.contains("4.00x"), "{t}");
        assert!(t.contains("(n/a: AesGmac signing not offered)"), "{t}");
    }

    #[test]
    fn na_runs_are_shown_but_not_failures() {
        let v = with_peer();
        let j = json(&v, &Vec::new(), "m", &["peer x not run: y".into()]);
        assert!(j.contains("\"notes\": [\"peer x not run: y\"]"), "{j}");
        assert!(j.contains("\"na\": \"AesGmac signing not offered\""), "{j}");
        assert!(j.contains("\"ours_ratio\": 4.000"), "{j}");
        assert!(j.contains("\"ours_ratio\": null"), "{j}");
        let s = svg(&v, "t");
        assert!(s.contains(">n/a</text>"), "{s}");
        let sum = summary(&v);
        assert!(
            sum.contains("ours/samba: ahead on 1 of 1 runs, geometric mean 2.00x"),
            "{sum}"
        );
        assert!(
            sum.contains("ours/smb-server: ahead on 1 of 1 runs"),
            "{sum}"
        );
        assert!(sum.contains("1 n/a"), "{sum}");
    }
}
