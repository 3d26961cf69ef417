//! The one macro of the catalogue: a section's attribute rows become both the typed serde +
//! schemars struct (every field optional: absent = unmanaged) and the `AttrSpec` table, so a
//! row is written once. Pure declarations; no behaviour lives here.

/// Declares a section's typed attribute struct and its `AttrSpec` table from one list of rows:
///
/// ```text
/// section_attributes! {
///     /// Doc of the struct.
///     pub struct General;
///     const ATTRIBUTES;
///     "api-rate-limit" api_rate_limit: u32 = AttrSpec::rw("...").min(30),
/// }
/// ```
macro_rules! section_attributes {
    (
        $(#[$smeta:meta])*
        pub struct $name:ident;
        const $attrs:ident;
        $( $wire:literal $field:ident : $ty:ty = $spec:expr ),+ $(,)?
    ) => {
        $(#[$smeta])*
        #[derive(
            Debug, Clone, Default, PartialEq,
            serde::Serialize, serde::Deserialize, schemars::JsonSchema,
        )]
        #[serde(deny_unknown_fields)]
        #[schemars(transform = $name::annotate_schema)]
        pub struct $name {
            $(
                #[serde(
                    rename = $wire,
                    default,
                    skip_serializing_if = "Option::is_none",
                    deserialize_with = "crate::catalogue::values::present"
                )]
                pub $field: Option<$ty>,
            )+
        }

        /// The catalogue rows of this section, in the order of the struct's fields.
        pub const $attrs: &[$crate::catalogue::AttrSpec] = &[
            $(
                ($spec).field(
                    $wire,
                    <$ty as $crate::catalogue::AttrValue>::KIND,
                    <$ty as $crate::catalogue::AttrValue>::NULLABLE,
                ),
            )+
        ];

        impl $name {
            fn annotate_schema(schema: &mut schemars::Schema) {
                $crate::catalogue::annotate_schema(schema, $attrs);
            }

            /// The section's JSON Schema (a `$ref` into the generator's definitions).
            pub fn schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                generator.subschema_for::<Self>()
            }

            /// Deserialises an attribute object into the typed struct.
            ///
            /// # Errors
            /// When the object does not fit the struct.
            pub fn parse(value: serde_json::Value) -> Result<(), serde_json::Error> {
                serde_json::from_value::<Self>(value).map(|_| ())
            }
        }
    };
}
