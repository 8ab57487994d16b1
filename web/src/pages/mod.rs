//! The pages: [`seller`] (the dashboard) and [`org`] (an org's members and admins).

pub mod audit;
pub mod chart;
pub mod org;
pub mod seller;
