//! One module per panel of the inspector.

pub mod charts;
pub mod cors_panel;
pub mod decode_as;
pub mod detail;
pub mod export_menu;
pub mod frame_list;
pub mod import;
pub mod method_stats;
pub mod shm_channels;
pub mod toolbar;
