//! `UNNEST(array) WITH ORDINALITY`: each element with its 1-based position, as in PostgreSQL
//! (`FROM ev, UNNEST(ev.tags) WITH ORDINALITY AS t(tag, n)`). DataFusion's own UNNEST has no
//! positions; a relation planner unnests `cairn_with_ordinality(array)` instead (each element
//! paired with its position) and splits the pairs into the two columns.

use std::sync::Arc;

use crate::sql::function_call;
use arrow_array::{Array, ArrayRef, Int64Array, ListArray, StructArray};
use arrow_schema::{DataType, Field, FieldRef, Fields};
use datafusion::common::{exec_err, plan_err, Result as DFResult};
use datafusion::functions::core::expr_fn::get_field;
use datafusion::logical_expr::planner::{PlannedRelation, RelationPlanner, RelationPlannerContext, RelationPlanning};
use datafusion::logical_expr::{
    ColumnarValue, Expr, LogicalPlanBuilder, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::sql::sqlparser::ast::{Expr as SqlExpr, TableFactor};

/// The function pairing each element of an array with its position.
pub(crate) const WITH_ORDINALITY: &str = "cairn_with_ordinality";
const VALUE: &str = "value";
const ORDINALITY: &str = "ordinality";

/// Plans `UNNEST(x) WITH ORDINALITY`.
#[derive(Debug, Default)]
pub(crate) struct OrdinalityPlanner;

impl RelationPlanner for OrdinalityPlanner {
    fn plan_relation(&self, relation: TableFactor, context: &mut dyn RelationPlannerContext) -> DFResult<RelationPlanning> {
        let TableFactor::UNNEST { alias, array_exprs, with_offset: false, with_offset_alias: None, with_ordinality: true } =
            relation
        else {
            return Ok(RelationPlanning::Original(Box::new(relation)));
        };
        let [array] = <[SqlExpr; 1]>::try_from(array_exprs).map_err(|_| {
            datafusion::error::DataFusionError::NotImplemented("UNNEST … WITH ORDINALITY of several arrays".into())
        })?;
        let paired = TableFactor::UNNEST {
            alias: None,
            array_exprs: vec![function_call(WITH_ORDINALITY, array)],
            with_offset: false,
            with_offset_alias: None,
            with_ordinality: false,
        };
        let plan = context.plan(paired)?;
        let [field] = plan.schema().columns().try_into().or_else(|_| plan_err!("UNNEST … WITH ORDINALITY: unexpected plan"))?;
        let part = |name: &str| get_field(Expr::Column(field.clone()), name).alias(if name == VALUE { "unnest" } else { name });
        let plan = LogicalPlanBuilder::from(plan).project([part(VALUE), part(ORDINALITY)])?.build()?;
        Ok(RelationPlanning::Planned(Box::new(PlannedRelation::new(plan, alias))))
    }
}

/// `cairn_with_ordinality(array)`: the array's elements as `{value, ordinality}` pairs.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct WithOrdinality {
    signature: Signature,
}

impl Default for WithOrdinality {
    fn default() -> Self {
        WithOrdinality { signature: Signature::any(1, Volatility::Immutable) }
    }
}

/// The pair type for elements of `element`.
fn pair_fields(element: &Field) -> Fields {
    Fields::from(vec![Field::new(VALUE, element.data_type().clone(), true), Field::new(ORDINALITY, DataType::Int64, false)])
}

impl ScalarUDFImpl for WithOrdinality {
    fn name(&self) -> &str {
        WITH_ORDINALITY
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> DFResult<DataType> {
        match args {
            [DataType::List(element)] => {
                Ok(DataType::List(Arc::new(Field::new_list_field(DataType::Struct(pair_fields(element)), true))))
            }
            [other] => plan_err!("UNNEST … WITH ORDINALITY needs an array, not {other}"),
            _ => plan_err!("{WITH_ORDINALITY} takes one argument"),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DFResult<ColumnarValue> {
        let rows = args.number_rows;
        let [arg] = args.args.as_slice() else { return exec_err!("{WITH_ORDINALITY} takes one argument") };
        let array = arg.to_array(rows)?;
        let Some(lists) = array.as_any().downcast_ref::<ListArray>() else {
            return exec_err!("UNNEST … WITH ORDINALITY needs an array, not {}", array.data_type());
        };
        Ok(ColumnarValue::Array(with_ordinality(lists)))
    }
}

/// Each list of `lists` with its elements paired with their 1-based positions.
fn with_ordinality(lists: &ListArray) -> ArrayRef {
    let offsets = lists.offsets();
    let mut positions = vec![0i64; lists.values().len()];
    for w in offsets.windows(2) {
        let (start, end) = (w[0] as usize, w[1] as usize);
        for (n, p) in positions[start..end].iter_mut().enumerate() {
            *p = n as i64 + 1;
        }
    }
    let element: FieldRef = match lists.data_type() {
        DataType::List(f) => f.clone(),
        _ => Arc::new(Field::new_list_field(lists.values().data_type().clone(), true)),
    };
    let pairs = StructArray::new(
        pair_fields(&element),
        vec![lists.values().clone(), Arc::new(Int64Array::from(positions)) as ArrayRef],
        None,
    );
    let field = Arc::new(Field::new_list_field(pairs.data_type().clone(), true));
    Arc::new(ListArray::new(field, offsets.clone(), Arc::new(pairs), lists.nulls().cloned()))
}
