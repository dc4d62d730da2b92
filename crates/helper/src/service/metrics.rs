//! The metrics textfile, written after every job with what only the service knows (the update
//! on offer, what the machine waits for) beside what the history says.

use super::*;

impl UpdateCenter {
    /// Writes `update_center.prom` into node-exporter's textfile directory, when there is one.
    pub(super) async fn write_metrics(&self, connection: &zbus::Connection) {
        let layout = self.shared.options.layout.clone();
        let dir = layout.on_disk(std::path::Path::new(
            update_center_engine::record::metrics::DEFAULT_DIR,
        ));
        if !dir.is_dir() {
            return;
        }
        let available = lock(&self.shared.available).version.clone();
        let last_check = *lock(&self.shared.last_check);
        let waiting: Vec<String> = self
            .waiting_reasons(connection)
            .await
            .into_iter()
            .map(|r| r.kind)
            .collect();
        let written = tokio::task::spawn_blocking(move || {
            let mut metrics = ops::read::metrics(&layout).map_err(|e| e.to_string())?;
            metrics.available = (!available.is_empty()).then_some(available);
            if last_check > 0 {
                metrics.last_check = Some(metrics.last_check.unwrap_or(0).max(last_check));
            }
            metrics.waiting = waiting;
            update_center_engine::record::metrics::write(&dir, &metrics).map_err(|e| e.to_string())
        })
        .await;
        if let Ok(Err(e)) = written {
            crate::journal::log(
                crate::journal::Priority::Warning,
                &format!("cannot write the metrics: {e}"),
                &[],
            );
        }
    }
}
