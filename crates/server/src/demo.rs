//! The demo tenant and users that `--dev` seeds, so that everything runs on
//! one machine with no Microsoft tenant. The ids are fixed: tokens, chats and
//! scripts keep referring to the same people across restarts and machines.

use uuid::{uuid, Uuid};

use crate::store::User;

/// Tenant id (`tid`) of the demo organisation.
pub const DEMO_TENANT_ID: Uuid = uuid!("00000000-c0de-4000-8000-000000000001");

/// One demo person, as the dev identity provider will describe them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoUser {
    /// Entra-style object id (`oid`): the stable way to address a user.
    pub object_id: Uuid,
    /// Sign-in name (`preferred_username`), also their mail address.
    pub user_principal_name: &'static str,
    pub display_name: &'static str,
}

pub const ALICE: DemoUser = DemoUser {
    object_id: uuid!("00000000-a11c-4000-8000-000000000001"),
    user_principal_name: "alice@convene.example",
    display_name: "Alice Example",
};

pub const BOB: DemoUser = DemoUser {
    object_id: uuid!("00000000-b0b0-4000-8000-000000000002"),
    user_principal_name: "bob@convene.example",
    display_name: "Bob Example",
};

pub const CAROL: DemoUser = DemoUser {
    object_id: uuid!("00000000-ca01-4000-8000-000000000003"),
    user_principal_name: "carol@convene.example",
    display_name: "Carol Example",
};

/// All demo users, in a stable order.
pub const DEMO_USERS: [DemoUser; 3] = [ALICE, BOB, CAROL];

impl DemoUser {
    /// The user as the store keeps them, in the demo tenant.
    pub fn to_user(&self) -> User {
        User {
            tenant_id: DEMO_TENANT_ID,
            object_id: self.object_id,
            user_principal_name: self.user_principal_name.to_owned(),
            display_name: self.display_name.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_documented_uuid_strings() {
        // Clients find the demo tenant without being told: they share this id.
        assert_eq!(
            DEMO_TENANT_ID.to_string(),
            convene_proto::dev::DEV_TENANT_ID
        );
        let ids: Vec<String> = DEMO_USERS.iter().map(|u| u.object_id.to_string()).collect();
        assert_eq!(
            ids,
            [
                "00000000-a11c-4000-8000-000000000001",
                "00000000-b0b0-4000-8000-000000000002",
                "00000000-ca01-4000-8000-000000000003",
            ]
        );
    }

    #[test]
    fn ids_are_rfc4122_version_4() {
        for id in std::iter::once(DEMO_TENANT_ID).chain(DEMO_USERS.iter().map(|u| u.object_id)) {
            assert_eq!(id.get_version_num(), 4, "{id}");
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122, "{id}");
        }
    }
}
