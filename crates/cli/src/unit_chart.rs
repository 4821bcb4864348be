//! The frame of a chart whose two axes are shares (0 to 1), as inline SVG: the calibration charts
//! of the backtest page and the quality page draw their points inside it.

use std::fmt::Write;

/// A `w` × `h` chart with a margin `m` around the plot area.
pub struct UnitChart {
    pub w: f64,
    pub h: f64,
    pub m: f64,
}

impl UnitChart {
    /// A `w` × `h` chart with a margin `m` around the plot area.
    pub fn new(w: f64, h: f64, m: f64) -> Self {
        Self { w, h, m }
    }

    /// The horizontal position of the share `v`.
    pub fn x(&self, v: f64) -> f64 {
        self.m + v * (self.w - 2.0 * self.m)
    }

    /// The vertical position of the share `v` (0 at the bottom).
    pub fn y(&self, v: f64) -> f64 {
        self.h - self.m - v * (self.h - 2.0 * self.m)
    }

    /// The opening `<svg>` tag of a calibration chart with its title, the plot area, the diagonal
    /// where predicted equals observed and the tick labels; `band` is drawn between the area and
    /// the diagonal (e.g. a tolerance band). The caller adds the points and closes the tag.
    pub fn calibration_frame(&self, title: &str, band: &str) -> String {
        let (w, h) = (self.w, self.h);
        format!(
            r##"<svg data-chart="calibration" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img"><title>{title}</title>{}{band}{}{}"##,
            self.area(),
            self.diagonal(),
            self.ticks()
        )
    }

    /// The axis labels (`x_label` under the x axis, "observed" along the y axis) and the closing tag.
    pub fn close(&self, x_label: &str) -> String {
        let (w, h) = (self.w, self.h);
        format!(
            r##"<text x="{}" y="{}" font-size="11" text-anchor="middle">{x_label}</text><text x="12" y="{}" font-size="11" transform="rotate(-90 12 {})" text-anchor="middle">observed</text></svg>"##,
            w / 2.0,
            h - 6.0,
            h / 2.0,
            h / 2.0
        )
    }

    /// The plot area's background.
    pub fn area(&self) -> String {
        let (w, h, m) = (self.w, self.h, self.m);
        format!(
            r##"<rect x="{m}" y="{m}" width="{}" height="{}" fill="#fafbfc" stroke="#ccc"/>"##,
            w - 2.0 * m,
            h - 2.0 * m
        )
    }

    /// The dashed diagonal where predicted equals observed.
    pub fn diagonal(&self) -> String {
        format!(
            r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#bbb" stroke-dasharray="4 3"/>"##,
            self.x(0.0),
            self.y(0.0),
            self.x(1.0),
            self.y(1.0)
        )
    }

    /// The tick labels 0, 0.25, 0.5, 0.75 and 1 under the x axis and left of the y axis.
    pub fn ticks(&self) -> String {
        let mut s = String::new();
        for v in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle">{v}</text><text x="{}" y="{:.1}" font-size="10" text-anchor="end">{v}</text>"##,
                self.x(v),
                self.h - self.m + 14.0,
                self.m - 4.0,
                self.y(v) + 3.0
            );
        }
        s
    }
}
