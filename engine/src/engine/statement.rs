//! A statement parsed once and classified once: what it is (Cairn's DDL, a write, `DESCRIBE`,
//! or a query DataFusion plans), the privilege running it needs, and the parsed syntax that
//! describing and running it start from. The text is rewritten before parsing where SQL
//! parsers do not know Cairn's forms (`IS UNDEFINED`, `HINT(…)`), and tools' catalog queries
//! after it where DataFusion does not plan PostgreSQL's forms.

use std::ops::ControlFlow;
use std::sync::Arc;

use arrow_schema::SchemaRef;
use datafusion::dataframe::DataFrame;
use datafusion::sql::parser::{DFParser, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{
    visit_relations, DescribeAlias, Expr as SqlExpr, Insert, ObjectName, SetExpr, Statement as SqlStatement, Value as SqlValue,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion_pg_catalog::sql::rules::{
    CurrentUserVariableToSessionUserFunctionCall, SqlStatementRewriteRule, StripCallableQualifier,
};

use super::{Engine, CATALOG};
use crate::catalog::{is_system, pg_catalog, reads_catalog};
use crate::error::{EngineError, Result};
use crate::functions::Kind as Function;
use crate::sql::{
    column_names, function_call, ident_name, insert_target, parse_cairn_ddl, plan_delete, plan_update, rewrite_undefined,
    standard_ddl, take_hint, Ddl, DmlPlan, Hint, TableName,
};

/// What a statement requires of the role running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Privilege {
    /// Nothing: constants, settings, the system catalog.
    None,
    /// Reading collections.
    Read,
    /// Writing documents or defining collections and workspaces.
    Write,
}

/// One SQL statement, parsed and classified by [`Engine::prepare`]: checked against a role
/// with [`Self::privilege`], then described or run as often as needed without parsing again.
#[derive(Debug, Clone)]
pub struct Statement {
    /// The text without its hint: what a kept plan is found by.
    pub(super) text: String,
    /// The access path it forces on its collection scans.
    pub(super) hint: Option<Hint>,
    pub(super) kind: Kind,
    privilege: Privilege,
}

impl Statement {
    /// What running the statement requires of its role: writing (documents, collections,
    /// workspaces), reading collections, or nothing (constants and PostgreSQL's system
    /// catalog, which every role may read, as in PostgreSQL).
    pub fn privilege(&self) -> Privilege {
        self.privilege
    }
}

/// What a statement is.
#[derive(Debug, Clone)]
pub(super) enum Kind {
    /// Workspace or collection DDL.
    Ddl(Ddl),
    /// `INSERT`: each row of a query becomes a document.
    Insert(InsertPlan),
    /// `UPDATE` or `DELETE`: a query selects the documents, then each is patched or deleted.
    Modify(ModifyPlan),
    /// `DESCRIBE coll`.
    Describe(ObjectName),
    /// Anything DataFusion plans and runs: queries, `EXPLAIN`, `SHOW`.
    Query(Parsed),
}

/// A statement DataFusion plans: its syntax, whether it reads PostgreSQL's system catalog
/// (then it is planned with PostgreSQL's coercions), and PostgreSQL's names for its result
/// columns, when its select list gives them.
#[derive(Debug, Clone)]
pub(super) struct Parsed {
    pub(super) statement: DFStatement,
    pub(super) catalog: bool,
    names: Option<Vec<String>>,
}

impl Parsed {
    fn new(statement: DFStatement) -> Parsed {
        Parsed { catalog: reads_catalog(&statement), names: column_names::of(&statement), statement }
    }

    /// The result columns of `df`, this statement's plan, under PostgreSQL's names.
    pub(super) fn columns(&self, df: &DataFrame) -> SchemaRef {
        column_names::apply(Arc::new(df.schema().as_arrow().clone()), self.names.as_deref())
    }
}

/// `INSERT INTO coll [(fields)] VALUES … | SELECT …`.
#[derive(Debug, Clone)]
pub(super) struct InsertPlan {
    /// The collection written.
    pub(super) target: TableName,
    /// The query whose rows are written: its VALUES or SELECT, each VALUES cell keeping its
    /// own type (VALUES would otherwise coerce a column to one type).
    pub(super) query: Parsed,
    /// The fields the statement names; empty when it names none.
    pub(super) fields: Vec<String>,
    /// Whether the rows are a VALUES list (unnamed, so they fill the collection's columns).
    pub(super) values: bool,
}

/// `UPDATE` or `DELETE`.
#[derive(Debug, Clone)]
pub(super) struct ModifyPlan {
    /// The collection written and the fields an UPDATE sets.
    pub(super) plan: DmlPlan,
    /// The selecting query, parsed.
    pub(super) query: Parsed,
    /// The command tag.
    pub(super) tag: &'static str,
}

impl Engine {
    /// Parses and classifies one SQL statement (a hint such as `HINT(access_path=…)` included).
    pub fn prepare(&self, sql: &str) -> Result<Statement> {
        if let Some(ddl) = parse_cairn_ddl(sql)? {
            return Ok(Statement { text: sql.to_owned(), hint: None, kind: Kind::Ddl(ddl), privilege: Privilege::Write });
        }
        let (text, hint) = take_hint(sql).map_err(EngineError::Invalid)?;
        let kind = self.classify(self.parse_one(&text)?)?;
        let privilege = self.privilege_of(&kind);
        Ok(Statement { text, hint, kind, privilege })
    }

    fn classify(&self, statement: DFStatement) -> Result<Kind> {
        let DFStatement::Statement(s) = &statement else { return Ok(Kind::Query(Parsed::new(statement))) };
        if let Some(ddl) = standard_ddl(s)? {
            return Ok(Kind::Ddl(ddl));
        }
        Ok(match s.as_ref() {
            SqlStatement::Insert(insert) => Kind::Insert(insert_plan(insert)?),
            SqlStatement::Delete(d) => Kind::Modify(self.modify_plan(plan_delete(d)?, "DELETE")?),
            SqlStatement::Update(u) => Kind::Modify(self.modify_plan(plan_update(u)?, "UPDATE")?),
            SqlStatement::ExplainTable { describe_alias: DescribeAlias::Describe | DescribeAlias::Desc, table_name, .. } => {
                Kind::Describe(table_name.clone())
            }
            _ => Kind::Query(Parsed::new(statement)),
        })
    }

    fn modify_plan(&self, plan: DmlPlan, tag: &'static str) -> Result<ModifyPlan> {
        let query = Parsed::new(self.parse_one(&plan.query)?);
        Ok(ModifyPlan { plan, query, tag })
    }

    /// The privilege a statement of `kind` needs. A collection may be named `pg_…` too: a
    /// one-part name is the system's only when pg_catalog has that table. `pg_stat_ingest`
    /// needs reading, as collections do: its errors can quote documents.
    fn privilege_of(&self, kind: &Kind) -> Privilege {
        let parsed = match kind {
            Kind::Ddl(_) | Kind::Insert(_) | Kind::Modify(_) => return Privilege::Write,
            Kind::Describe(_) => return Privilege::Read,
            Kind::Query(parsed) => parsed,
        };
        let DFStatement::Statement(s) = &parsed.statement else { return Privilege::Read };
        let pg_catalog = self.ctx.catalog(CATALOG).and_then(|c| c.schema(pg_catalog::PG_CATALOG));
        let in_pg_catalog = |name: &ObjectName| {
            let table = name.0.first().and_then(|p| p.as_ident()).map(|i| i.value.to_ascii_lowercase());
            table.is_some_and(|t| pg_catalog.as_ref().is_some_and(|p| p.table_exist(&t)))
        };
        let system = |name: &ObjectName| {
            is_system(name) && (name.0.len() > 1 || in_pg_catalog(name)) && !pg_catalog::names_live_stats(name)
        };
        let reads_data =
            visit_relations(s.as_ref(), |name| if system(name) { ControlFlow::Continue(()) } else { ControlFlow::Break(()) })
                .is_break();
        if reads_data || matches!(s.as_ref(), SqlStatement::ExplainTable { .. }) {
            Privilege::Read
        } else {
            Privilege::None
        }
    }

    /// Parses exactly one statement in PostgreSQL's dialect, with the PostgreSQL-only forms
    /// DataFusion lacks rewritten.
    fn parse_one(&self, sql: &str) -> Result<DFStatement> {
        let sql = rewrite_undefined(sql);
        let mut statements = DFParser::parse_sql_with_dialect(&sql, &PostgreSqlDialect {})?;
        let statement = match (statements.pop_front(), statements.is_empty()) {
            (Some(s), true) => s,
            (None, _) => return Err(EngineError::Invalid("empty statement".into())),
            (Some(_), false) => return Err(EngineError::Invalid("one statement at a time".into())),
        };
        // Tools' catalog queries are rewritten into forms DataFusion plans; other statements
        // are left alone (the rewrite would take a field named `user` for `current_user`).
        if reads_catalog(&statement) {
            if let Ok(mut rewritten) = self.compat.parse(&sql) {
                if rewritten.len() == 1 {
                    let mut rewritten = rewritten.remove(0);
                    pg_catalog::adapt_catalog_query(&mut rewritten);
                    return Ok(DFStatement::Statement(Box::new(rewritten)));
                }
            }
        }
        // `current_user`, `user`, `current_catalog` and a bare `current_schema` are functions,
        // and `pg_catalog.version()` is `version()`.
        Ok(match statement {
            DFStatement::Statement(s) => {
                let s = CurrentUserVariableToSessionUserFunctionCall.rewrite(*s);
                DFStatement::Statement(Box::new(StripCallableQualifier.rewrite(s)))
            }
            other => other,
        })
    }
}

/// The plan of an `INSERT`: its target, the query producing its rows, and the fields it names.
fn insert_plan(insert: &Insert) -> Result<InsertPlan> {
    let target = insert_target(&insert.table)?;
    let mut query =
        insert.source.as_deref().ok_or_else(|| EngineError::Unsupported("INSERT without VALUES or a query".into()))?.clone();
    let values = matches!(*query.body, SetExpr::Values(_));
    if let SetExpr::Values(values) = query.body.as_mut() {
        for row in &mut values.rows {
            for cell in row.iter_mut() {
                // `cairn_get(e)`: the value of `e` as a variant, keeping its own type.
                let e = std::mem::replace(cell, SqlExpr::value(SqlValue::Null));
                *cell = function_call(Function::Get.name(), e);
            }
        }
    }
    let fields =
        insert.columns.iter().map(|c| c.0.last().and_then(|p| p.as_ident()).map(ident_name).unwrap_or_default()).collect();
    let query = Parsed::new(DFStatement::Statement(Box::new(SqlStatement::Query(Box::new(query)))));
    Ok(InsertPlan { target, query, fields, values })
}
