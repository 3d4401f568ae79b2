#![cfg(feature = "postgres")]
#[path = "../pg_util/mod.rs"]
mod pg_util;

#[test]
fn harness_smoke() {
    let t = std::time::Instant::now();
    let server = pg_util::PgServer::shared();
    eprintln!("start {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let url = server.create_database();
    eprintln!("createdb {:?}", t.elapsed());
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let v: String = c.query_one("select version()", &[]).unwrap().get(0);
    eprintln!("{v} pid {:?}", server.server_pid());
    let own = pg_util::PgServer::start();
    own.stop();
    own.start_again();
    drop(own);
}
