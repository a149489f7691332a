//! The timeline picture: a per-table Gantt chart as a standalone SVG string.
//!
//! Rows are tables grouped by zone; x is time (local, `px_per_min` pixels a minute).
//! Elements carry classes so tools and tests can find them:
//! `bar` one per allocation (the stay; its turnover buffer is a separate `buffer` rect),
//! `hold` one per live hold, `gap` a free stretch of >= 15 minutes, `link` the connector
//! of the tables of one multi-table booking, `zone` a zone header, `table-label` a row label.

use std::collections::BTreeMap;
use std::fmt::Write;

/// Escapes text and attribute values for XML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

pub struct TableRow {
    pub zone: String,
    pub id: String,
    pub name: String,
    pub capacity: i32,
    pub in_service: bool,
}

/// An allocation (`hold == false`) or a live hold on one table; times are epoch seconds.
pub struct Item {
    pub hold: bool,
    pub table_id: String,
    pub booking_id: String,
    pub party: i32,
    pub status: String,
    pub start: f64,
    pub end: f64,
    pub stay_end: f64,
    pub tables_in_plan: i64,
    pub start_label: String,
    pub end_label: String,
}

pub struct Chart {
    pub title: String,
    pub subtitle: String,
    pub tables: Vec<TableRow>,
    pub items: Vec<Item>,
    /// window and hour ticks, epoch seconds, with local labels
    pub from: f64,
    pub to: f64,
    pub ticks: Vec<(f64, String)>,
    pub now: Option<f64>,
}

pub fn status_colour(status: &str) -> &'static str {
    match status {
        "confirmed" => "#2f6db5",
        "seated" => "#2e8b57",
        "completed" => "#8a8f98",
        "pending" => "#e0a030",
        "cancelled" => "#c0392b",
        "no_show" => "#8e44ad",
        _ => "#555555",
    }
}

const LEFT: f64 = 200.0;
const TOP: f64 = 104.0;
const ROW: f64 = 24.0;
const ZONE: f64 = 24.0;
const BAR: f64 = 16.0;
const PX_PER_MIN: f64 = 2.4;

fn minutes(d: f64) -> String {
    let m = (d / 60.0).round() as i64;
    match (m / 60, m % 60) {
        (0, mm) => format!("{mm}m"),
        (h, 0) => format!("{h}h"),
        (h, mm) => format!("{h}h{mm:02}"),
    }
}

/// Renders the chart. Deterministic for the same input.
pub fn render(ch: &Chart) -> String {
    let span = (ch.to - ch.from).max(60.0);
    let plot_w = span / 60.0 * PX_PER_MIN;
    let x = |t: f64| LEFT + (t.clamp(ch.from, ch.to) - ch.from) / 60.0 * PX_PER_MIN;
    // row y of every table, zone headers in between
    let mut ys: BTreeMap<&str, f64> = BTreeMap::new();
    let mut zones: Vec<(String, f64, usize, i32)> = Vec::new();
    let mut y = TOP;
    for t in &ch.tables {
        if zones.last().map(|z| z.0 != t.zone).unwrap_or(true) {
            zones.push((t.zone.clone(), y, 0, 0));
            y += ZONE;
        }
        if let Some(z) = zones.last_mut() {
            z.2 += 1;
            z.3 += t.capacity;
        }
        ys.insert(&t.id, y);
        y += ROW;
    }
    let height = y + 40.0;
    let width = LEFT + plot_w + 30.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11">
<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff4dc"/><line x1="0" y1="0" x2="0" y2="6" stroke="#e0a030" stroke-width="2"/></pattern></defs>
<rect x="0" y="0" width="{width:.0}" height="{height:.0}" fill="#ffffff"/>
<text x="12" y="22" font-size="16" font-weight="bold">{}</text>
<text x="12" y="40" fill="#444">{}</text>
"##,
        esc(&ch.title),
        esc(&ch.subtitle)
    );
    legend(&mut s, 12.0, 58.0);
    // hour grid
    for (t, label) in &ch.ticks {
        let tx = x(*t);
        let _ = writeln!(
            s,
            r##"<line class="tick" x1="{tx:.1}" y1="{:.1}" x2="{tx:.1}" y2="{:.1}" stroke="#dddddd"/><text x="{tx:.1}" y="{:.1}" text-anchor="middle" fill="#666">{}</text>"##,
            TOP - 8.0,
            y,
            TOP - 12.0,
            esc(label)
        );
    }
    for (name, zy, n, seats) in &zones {
        let _ = writeln!(
            s,
            r##"<g class="zone"><rect x="0" y="{zy:.1}" width="{width:.0}" height="{ZONE}" fill="#f0f2f5"/><text x="10" y="{:.1}" font-weight="bold">{} <tspan fill="#666" font-weight="normal">· {n} tables, {seats} seats</tspan></text></g>"##,
            zy + 16.0,
            esc(name)
        );
    }
    // which rows are busy when, for the free gaps
    let mut busy: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for it in &ch.items {
        busy.entry(&it.table_id)
            .or_default()
            .push((it.start, it.end));
    }
    for t in &ch.tables {
        let ty = ys[t.id.as_str()];
        let _ = writeln!(
            s,
            r##"<text class="table-label" x="18" y="{:.1}">{} <tspan fill="#666">({})</tspan></text><line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#eeeeee"/>"##,
            ty + 16.0,
            esc(&t.name),
            t.capacity,
            ty + ROW,
            LEFT + plot_w,
            ty + ROW
        );
        if !t.in_service {
            let _ = writeln!(
                s,
                r##"<rect class="out-of-service" x="{LEFT}" y="{:.1}" width="{plot_w:.1}" height="{BAR}" fill="#e5e5e5"/><text x="{:.1}" y="{:.1}" fill="#888">out of service</text>"##,
                ty + 4.0,
                LEFT + 6.0,
                ty + 16.0
            );
            continue;
        }
        let mut iv = busy.get(t.id.as_str()).cloned().unwrap_or_default();
        iv.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut cur = ch.from;
        let mut gaps = Vec::new();
        for (a, b) in iv {
            if a > cur {
                gaps.push((cur, a));
            }
            cur = cur.max(b);
        }
        if ch.to > cur {
            gaps.push((cur, ch.to));
        }
        for (a, b) in gaps.into_iter().filter(|(a, b)| b - a >= 15.0 * 60.0) {
            let (gx, gw) = (x(a), x(b) - x(a));
            let _ = write!(
                s,
                r##"<rect class="gap" x="{gx:.1}" y="{:.1}" width="{gw:.1}" height="{BAR}" fill="#eaf6ec" stroke="#b9dfc0" stroke-dasharray="3 2"><title>free {}</title></rect>"##,
                ty + 4.0,
                minutes(b - a)
            );
            if gw >= 70.0 {
                let _ = write!(
                    s,
                    r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#5b9a66" font-size="10">{} free</text>"##,
                    gx + gw / 2.0,
                    ty + 15.5,
                    minutes(b - a)
                );
            }
            s.push('\n');
        }
    }
    for it in &ch.items {
        let Some(&ty) = ys.get(it.table_id.as_str()) else {
            continue;
        };
        let (bx, bw) = (
            x(it.start),
            (x(it.stay_end.min(it.end)) - x(it.start)).max(2.0),
        );
        let combo = it.tables_in_plan > 1;
        let tip = format!(
            "{} party {} · {}–{} · {} · {} table{} · booking {}",
            if it.hold { "HOLD" } else { "booking" },
            it.party,
            it.start_label,
            it.end_label,
            it.status,
            it.tables_in_plan,
            if combo { "s" } else { "" },
            it.booking_id
        );
        let label = if combo {
            format!("{} · {} tables", it.party, it.tables_in_plan)
        } else {
            it.party.to_string()
        };
        if it.hold {
            let _ = write!(
                s,
                r##"<rect class="hold" data-booking="{}" x="{bx:.1}" y="{:.1}" width="{bw:.1}" height="{BAR}" fill="url(#hatch)" stroke="#e0a030" stroke-width="1.5" stroke-dasharray="4 2" rx="3"><title>{}</title></rect>"##,
                esc(&it.booking_id),
                ty + 4.0,
                esc(&tip)
            );
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" fill="#8a5a00" font-weight="bold">hold {}</text>"##,
                bx + 10.0,
                ty + 15.5,
                esc(&label)
            );
            continue;
        }
        let colour = status_colour(&it.status);
        let _ = write!(
            s,
            r##"<rect class="bar" data-booking="{}" data-status="{}" x="{bx:.1}" y="{:.1}" width="{bw:.1}" height="{BAR}" fill="{colour}" rx="3"{}><title>{}</title></rect>"##,
            esc(&it.booking_id),
            esc(&it.status),
            ty + 4.0,
            if combo {
                r##" stroke="#1b2a41" stroke-width="1.5""##
            } else {
                ""
            },
            esc(&tip)
        );
        if it.end > it.stay_end {
            let _ = write!(
                s,
                r##"<rect class="buffer" x="{:.1}" y="{:.1}" width="{:.1}" height="{BAR}" fill="{colour}" opacity="0.35"><title>turnover buffer</title></rect>"##,
                x(it.stay_end),
                ty + 4.0,
                (x(it.end) - x(it.stay_end)).max(0.0)
            );
        }
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" fill="#ffffff" font-weight="bold">{}</text>"##,
            bx + if combo { 11.0 } else { 4.0 },
            ty + 15.5,
            esc(&label)
        );
    }
    // links over the bars: a connector down the left edge of a combination's bars
    let mut plans: BTreeMap<(&str, bool), Vec<&Item>> = BTreeMap::new();
    for it in &ch.items {
        plans.entry((&it.booking_id, it.hold)).or_default().push(it);
    }
    for ((bid, hold), its) in &plans {
        let mut yv: Vec<f64> = its
            .iter()
            .filter_map(|i| ys.get(i.table_id.as_str()).copied())
            .collect();
        if yv.len() < 2 {
            continue;
        }
        yv.sort_by(f64::total_cmp);
        let lx = x(its[0].start) + 4.0;
        let colour = if *hold { "#e0a030" } else { "#1b2a41" };
        let _ = write!(
            s,
            r##"<g class="link" data-booking="{}"><line x1="{lx:.1}" y1="{:.1}" x2="{lx:.1}" y2="{:.1}" stroke="{colour}" stroke-width="3"/>"##,
            esc(bid),
            yv[0] + 12.0,
            yv[yv.len() - 1] + 12.0
        );
        for yy in &yv {
            let _ = write!(
                s,
                r##"<circle cx="{lx:.1}" cy="{:.1}" r="3.5" fill="{colour}"/>"##,
                yy + 12.0
            );
        }
        s.push_str("</g>\n");
    }
    if let Some(now) = ch.now.filter(|n| *n > ch.from && *n < ch.to) {
        let nx = x(now);
        let _ = writeln!(
            s,
            r##"<line class="now" x1="{nx:.1}" y1="{:.1}" x2="{nx:.1}" y2="{y:.1}" stroke="#d62728" stroke-width="1.5"/><text x="{nx:.1}" y="{:.1}" fill="#d62728" text-anchor="middle">now</text>"##,
            TOP - 4.0,
            y + 14.0
        );
    }
    s.push_str("</svg>\n");
    s
}

fn legend(s: &mut String, x0: f64, y0: f64) {
    let mut x = x0;
    for st in ["confirmed", "seated", "completed", "cancelled", "no_show"] {
        let _ = write!(
            s,
            r##"<rect x="{x:.0}" y="{:.0}" width="14" height="10" fill="{}" rx="2"/><text x="{:.0}" y="{y0:.0}">{st}</text>"##,
            y0 - 9.0,
            status_colour(st),
            x + 18.0
        );
        x += 26.0 + 7.0 * st.len() as f64;
    }
    let _ = write!(
        s,
        r##"<rect x="{x:.0}" y="{:.0}" width="14" height="10" fill="url(#hatch)" stroke="#e0a030"/><text x="{:.0}" y="{y0:.0}">hold</text>"##,
        y0 - 9.0,
        x + 18.0
    );
    x += 60.0;
    let _ = write!(
        s,
        r##"<rect x="{x:.0}" y="{:.0}" width="14" height="10" fill="#eaf6ec" stroke="#b9dfc0"/><text x="{:.0}" y="{y0:.0}">free</text>"##,
        y0 - 9.0,
        x + 18.0
    );
    x += 56.0;
    let _ = writeln!(
        s,
        r##"<line x1="{:.0}" y1="{:.0}" x2="{:.0}" y2="{:.0}" stroke="#1b2a41" stroke-width="3"/><text x="{:.0}" y="{y0:.0}">combined tables</text><text x="{x0:.0}" y="{:.0}" fill="#666">bar = stay, labelled with the party size · pale tail = turnover buffer · hover a bar for the booking</text>"##,
        x + 6.0,
        y0 - 12.0,
        x + 6.0,
        y0 + 2.0,
        x + 16.0,
        y0 + 16.0
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("a<b & \"c\"'"), "a&lt;b &amp; &quot;c&quot;&apos;");
    }

    #[test]
    fn minutes_reads_well() {
        assert_eq!(minutes(45.0 * 60.0), "45m");
        assert_eq!(minutes(120.0 * 60.0), "2h");
        assert_eq!(minutes(95.0 * 60.0), "1h35");
    }
}
