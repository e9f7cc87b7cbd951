//! The server over real HTTP on 127.0.0.1, with a stand-in catalog: good
//! uploads are classified, bad ones get a 4xx with a JSON error naming what
//! is wrong, and the server keeps serving after each.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dlsuite_data::idx::PIXELS;
use dlsuite_web::{router, serve, Catalog, ClassifyError, RunCard};
use image::{GrayImage, Luma};

/// One classifier, "digits", whose "model" answers the share of inked
/// pixels in each tenth of the image's rows, so the test can tell a
/// picture's upper rows from its lower ones; one whose model panics; and
/// one run that classifies nothing.
struct Stand;

/// Set once the slow model has answered.
static SLOW_DONE: AtomicBool = AtomicBool::new(false);

impl Catalog for Stand {
    fn runs(&self) -> Vec<RunCard> {
        vec![
            RunCard {
                name: "digits".into(),
                description: "a stand-in classifier".into(),
                facts: vec![("test accuracy".into(), "12.34%".into())],
                pictures: vec!["curves.png".into()],
                classes: Some((0..10).map(|c| format!("class {c}")).collect()),
            },
            RunCard {
                name: "panics".into(),
                description: "a model with a bug".into(),
                facts: vec![],
                pictures: vec![],
                classes: Some(vec!["only".into()]),
            },
            RunCard {
                name: "slow".into(),
                description: "a model that takes its time".into(),
                facts: vec![],
                pictures: vec![],
                classes: Some(vec!["only".into()]),
            },
            RunCard {
                name: "lesson".into(),
                description: "classifies nothing".into(),
                facts: vec![],
                pictures: vec![],
                classes: None,
            },
        ]
    }

    fn classify(&self, run: &str, pixels: &[u8; PIXELS]) -> Result<Vec<f32>, ClassifyError> {
        if run == "panics" {
            panic!("a stand-in bug");
        }
        if run == "slow" {
            std::thread::sleep(std::time::Duration::from_secs(3));
            SLOW_DONE.store(true, Ordering::SeqCst);
            return Ok(vec![1.0]);
        }
        if run != "digits" {
            return Err(ClassifyError::UnknownRun(run.into()));
        }
        let mut bands = vec![0f32; 10];
        for (i, &p) in pixels.iter().enumerate() {
            bands[(i / 28 * 10 / 28).min(9)] += p as f32;
        }
        let total: f32 = bands.iter().sum::<f32>().max(1.0);
        Ok(bands.into_iter().map(|b| b / total).collect())
    }
}

fn start() -> (String, tempfile::TempDir) {
    let artifacts = tempfile::tempdir().unwrap();
    std::fs::create_dir(artifacts.path().join("digits")).unwrap();
    std::fs::write(
        artifacts.path().join("digits/curves.png"),
        png(&bar_image()),
    )
    .unwrap();
    std::fs::write(
        artifacts.path().join("REPORT.md"),
        "# Report\n\n| run | accuracy |\n|---|---|\n| digits | 12.34% |\n\n![curves](digits/curves.png)\n",
    )
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router(Arc::new(Stand), PathBuf::from(artifacts.path()));
    std::thread::spawn(move || serve(listener, app));
    (base, artifacts)
}

/// A dark bar across the top of a white page.
fn bar_image() -> GrayImage {
    GrayImage::from_fn(100, 100, |_, y| {
        Luma([if (10..30).contains(&y) { 0 } else { 255 }])
    })
}

fn png(image: &GrayImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}

/// Status and parsed JSON body of a POST, whatever the status.
fn post(url: &str, content_type: &str, body: &[u8]) -> (u16, serde_json::Value) {
    let reply = match ureq::post(url)
        .set("Content-Type", content_type)
        .send_bytes(body)
    {
        Ok(reply) => reply,
        Err(ureq::Error::Status(_, reply)) => reply,
        Err(err) => panic!("{url}: {err}"),
    };
    let status = reply.status();
    let text = reply.into_string().unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status} {text:?}: {e}"));
    (status, json)
}

fn error_of(reply: &(u16, serde_json::Value)) -> String {
    reply.1["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error text in {:?}", reply.1))
        .to_string()
}

#[test]
fn a_png_and_grey_values_are_classified() {
    let (base, _dir) = start();
    let (status, reply) = post(
        &format!("{base}/api/predict?run=digits"),
        "image/png",
        &png(&bar_image()),
    );
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["run"], "digits");
    // The bar is fitted and centred as an MNIST digit would be: its ink
    // lands in the middle rows, whatever the page's size.
    let seen: Vec<u64> = reply["seen"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(seen.len(), PIXELS);
    assert!(
        seen[..28 * 8].iter().all(|&v| v == 0),
        "ink in the top rows"
    );
    assert!(seen.iter().any(|&v| v > 200), "no ink seen");
    let top = reply["top"].as_array().unwrap();
    assert_eq!(top.len(), 3);
    assert_eq!(top[0]["name"], format!("class {}", top[0]["class"]));
    assert_eq!(reply["probabilities"].as_array().unwrap().len(), 10);
    assert_eq!(reply["blank"], false);

    // 784 values as JSON, run named inside, ink in the last rows only.
    let mut pixels = vec![0u8; PIXELS];
    pixels[PIXELS - 28..].fill(255);
    let body = serde_json::json!({ "pixels": pixels, "run": "digits" });
    let (status, reply) = post(
        &format!("{base}/api/predict"),
        "application/json",
        body.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["top"][0]["class"], 9);
    assert_eq!(reply["blank"], false);
}

#[test]
fn bad_uploads_get_a_4xx_naming_what_is_wrong() {
    let (base, _dir) = start();
    let predict = format!("{base}/api/predict?run=digits");
    let too_many = serde_json::json!({ "pixels": vec![0; 785] }).to_string();
    let too_bright = serde_json::json!({ "pixels": vec![300; PIXELS] }).to_string();
    let over_limit = vec![0u8; dlsuite_web::MAX_UPLOAD_BYTES + 1];
    let cut_short = png(&bar_image())[..60].to_vec();
    let cases: Vec<(&str, &str, &[u8], u16, &str)> = vec![
        (&predict, "image/png", b"", 400, "empty"),
        (
            &predict,
            "image/png",
            b"this is plain text",
            400,
            "not a usable image",
        ),
        (&predict, "image/png", &cut_short, 400, "not a usable image"),
        (
            &predict,
            "application/json",
            b"{\"pixels\": [1, 2",
            400,
            "bad JSON",
        ),
        (
            &predict,
            "application/json",
            too_many.as_bytes(),
            400,
            "785 values",
        ),
        (
            &predict,
            "application/json",
            too_bright.as_bytes(),
            400,
            "is 300",
        ),
        (&predict, "image/png", &over_limit, 413, "5 MB"),
    ];
    for (url, content_type, body, status, says) in cases {
        let reply = post(url, content_type, body);
        assert_eq!(reply.0, status, "{says}: {}", reply.1);
        let error = error_of(&reply);
        assert!(error.contains(says), "{says}: {error}");
    }
    let png = png(&bar_image());
    for (run, status, says) in [
        ("nonesuch", 404, "nonesuch"),
        ("lesson", 404, "lesson"),
        ("..%2Fetc", 404, "../etc"),
    ] {
        let reply = post(&format!("{base}/api/predict?run={run}"), "image/png", &png);
        assert_eq!(reply.0, status, "{run}: {}", reply.1);
        assert!(error_of(&reply).contains(says), "{run}: {}", reply.1);
    }
    let reply = post(&format!("{base}/api/nothing"), "image/png", &png);
    assert_eq!(reply.0, 404);
    assert!(error_of(&reply).contains("/api/nothing"));
    // Still serving: a good upload after all of them.
    assert_eq!(post(&predict, "image/png", &png).0, 200);
}

#[test]
fn the_pages_show_the_runs_and_the_report() {
    let (base, _dir) = start();
    let get = |path: &str| {
        let reply = ureq::get(&format!("{base}{path}")).call().unwrap();
        (
            reply.content_type().to_string(),
            reply.into_string().unwrap(),
        )
    };
    let (kind, draw) = get("/");
    assert_eq!(kind, "text/html");
    assert!(draw.contains("<canvas id=\"pad\""));
    let (_, runs) = get("/runs");
    assert!(
        runs.contains("<h2>digits</h2>") && runs.contains("12.34%"),
        "{runs}"
    );
    assert!(runs.contains("/artifacts/digits/curves.png"));
    assert!(runs.contains("<h2>lesson</h2>"));
    let (_, report) = get("/report");
    assert!(
        report.contains("<table>") && report.contains("<td>12.34%</td>"),
        "{report}"
    );
    assert!(report.contains("<base href=\"/artifacts/\">"));
    let picture = ureq::get(&format!("{base}/artifacts/digits/curves.png"))
        .call()
        .unwrap();
    assert_eq!(picture.content_type(), "image/png");
    let (_, listed) = get("/api/runs");
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["digits", "panics", "slow", "lesson"]);
    assert!(listed[3]["classes"].is_null());
    // Nothing outside the artifacts folder is served.
    match ureq::get(&format!("{base}/artifacts/..%2F..%2Fetc%2Fpasswd")).call() {
        Err(ureq::Error::Status(code, _)) => assert!((400..500).contains(&code)),
        Ok(reply) => panic!("served {:?}", reply.into_string()),
        Err(err) => panic!("{err}"),
    }
}

#[test]
fn a_panicking_model_answers_500_and_the_server_goes_on() {
    let (base, _dir) = start();
    let body = serde_json::json!({ "pixels": vec![0; PIXELS], "run": "panics" }).to_string();
    let reply = post(
        &format!("{base}/api/predict"),
        "application/json",
        body.as_bytes(),
    );
    assert_eq!(reply.0, 500, "{}", reply.1);
    assert!(error_of(&reply).contains("failed"), "{}", reply.1);
    let png = png(&bar_image());
    assert_eq!(
        post(&format!("{base}/api/predict?run=digits"), "image/png", &png).0,
        200
    );
}

#[test]
fn a_slow_model_does_not_hold_up_the_pages_or_other_models() {
    let (base, _dir) = start();
    // More requests than the server has request threads (one per core, on
    // machines of up to 16): were each to block its thread, none would be
    // left for the pages.
    let slow: Vec<_> = (0..16)
        .map(|_| {
            let url = format!("{base}/api/predict?run=slow");
            std::thread::spawn(move || post(&url, "image/png", &png(&bar_image())))
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    for path in ["/", "/runs", "/api/runs"] {
        let reply = ureq::get(&format!("{base}{path}")).call().unwrap();
        assert_eq!(reply.status(), 200, "{path}");
    }
    let reply = post(
        &format!("{base}/api/predict?run=digits"),
        "image/png",
        &png(&bar_image()),
    );
    assert_eq!(reply.0, 200);
    assert!(
        !SLOW_DONE.load(Ordering::SeqCst),
        "the pages and the other model waited for the slow one"
    );
    for request in slow {
        assert_eq!(request.join().unwrap().0, 200);
    }
    assert!(SLOW_DONE.load(Ordering::SeqCst));
}
