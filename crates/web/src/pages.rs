//! The HTML pages: the drawing page (static, it talks to the API), the runs
//! page and the report, rendered from the artifacts folder on each visit.

use std::fmt::Write;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use pulldown_cmark::{html, Options, Parser};

use crate::api::{blocking, ApiError};
use crate::server::App;

/// The drawing page: canvas, run menu, the image the model saw, the bars.
pub const DRAW_PAGE: &str = include_str!("../assets/draw.html");
const STYLE: &str = include_str!("../assets/style.css");

pub async fn draw() -> Html<&'static str> {
    Html(DRAW_PAGE)
}

pub async fn style() -> ([(&'static str, &'static str); 1], &'static str) {
    ([("content-type", "text/css; charset=utf-8")], STYLE)
}

/// Every run with its facts and pictures.
pub async fn runs(State(app): State<App>) -> Result<Html<String>, ApiError> {
    let catalog = app.catalog.clone();
    let runs = blocking(move || catalog.runs()).await?;
    let mut body = String::new();
    if runs.is_empty() {
        let _ = write!(
            body,
            "<p>No runs in <code>{}</code> yet: <code>dlsuite train mnist-cnn</code> makes one.</p>",
            escape(&app.artifacts.display().to_string())
        );
    }
    body.push_str("<nav>");
    for run in &runs {
        let _ = write!(body, "<a href=\"#{0}\">{0}</a> ", escape(&run.name));
    }
    body.push_str("</nav>");
    for run in &runs {
        let name = escape(&run.name);
        let _ = write!(
            body,
            "<section class=\"run\" id=\"{name}\"><h2>{name}</h2><p>{}</p><table>",
            escape(&run.description)
        );
        for (label, value) in &run.facts {
            let _ = write!(
                body,
                "<tr><th>{}</th><td>{}</td></tr>",
                escape(label),
                escape(value)
            );
        }
        body.push_str("</table>");
        if run.classes.is_some() {
            let _ = write!(
                body,
                "<p><a href=\"/?run={}\">Draw for this model</a></p>",
                escape(&url_component(&run.name))
            );
        }
        body.push_str("<div class=\"pictures\">");
        for picture in &run.pictures {
            let src = format!(
                "/artifacts/{}/{}",
                url_component(&run.name),
                url_component(picture)
            );
            let _ = write!(
                body,
                "<figure><a href=\"{0}\"><img src=\"{0}\" alt=\"{1}\" loading=\"lazy\"></a><figcaption>{1}</figcaption></figure>",
                escape(&src),
                escape(picture)
            );
        }
        body.push_str("</div></section>");
    }
    Ok(Html(page("Runs", &body, None)))
}

/// `REPORT.md` of the artifacts folder as HTML; its links are relative to
/// that folder, which `/artifacts/` serves.
pub async fn report(State(app): State<App>) -> (StatusCode, Html<String>) {
    let path = app.artifacts.join("REPORT.md");
    match std::fs::read_to_string(&path) {
        Ok(markdown) => (
            StatusCode::OK,
            Html(page(
                "Report",
                &markdown_to_html(&markdown),
                Some("/artifacts/"),
            )),
        ),
        Err(err) => (
            StatusCode::NOT_FOUND,
            Html(page(
                "Report",
                &format!(
                    "<p>No report: {} ({err}). <code>dlsuite reproduce</code> writes it.</p>",
                    escape(&path.display().to_string())
                ),
                None,
            )),
        ),
    }
}

/// A page of the site: header with the three links, then `body`.
fn page(title: &str, body: &str, base: Option<&str>) -> String {
    let base = base.map_or(String::new(), |b| format!("<base href=\"{b}\">"));
    // A rendered report brings its own title.
    let heading = if body.starts_with("<h1>") {
        String::new()
    } else {
        format!("<h1>{title}</h1>")
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">{base}\
         <title>dlsuite · {title}</title><link rel=\"stylesheet\" href=\"/style.css\"></head>\
         <body><header><a href=\"/\">Draw</a> <a href=\"/runs\">Runs</a> <a href=\"/report\">Report</a></header>\
         <main>{heading}{body}</main></body></html>"
    )
}

pub fn markdown_to_html(markdown: &str) -> String {
    let mut out = String::new();
    html::push_html(&mut out, Parser::new_ext(markdown, Options::ENABLE_TABLES));
    out
}

/// Text safe inside HTML, attributes included.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A path segment with everything but unreserved characters percent-encoded.
fn url_component(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}
