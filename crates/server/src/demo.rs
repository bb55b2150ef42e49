//! The demo organisations and users that `--dev` seeds, so that everything
//! runs on one machine with no Microsoft tenant. The ids are fixed: tokens,
//! chats and scripts keep referring to the same people across restarts and
//! machines.
//!
//! There are two tenants, so that clients can try several accounts in
//! different organisations: Convene (alice, bob, carol) and Fabrikam (dave).

use uuid::{uuid, Uuid};

use crate::store::User;

/// Tenant id (`tid`) of the first demo organisation, Convene
/// (`convene.example`): clients use it when told nothing else.
pub const DEMO_TENANT_ID: Uuid = uuid!("00000000-c0de-4000-8000-000000000001");
/// Domain of the first demo organisation.
pub const DEMO_TENANT_DOMAIN: &str = "convene.example";

/// Tenant id (`tid`) of the second demo organisation, Fabrikam
/// (`fabrikam.example`).
pub const FABRIKAM_TENANT_ID: Uuid = uuid!("00000000-c0de-4000-8000-000000000002");
/// Domain of the second demo organisation.
pub const FABRIKAM_TENANT_DOMAIN: &str = "fabrikam.example";

/// One demo organisation (an Entra tenant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoTenant {
    /// `tid`.
    pub id: Uuid,
    /// The domain its users' names end in; also accepted in place of the id
    /// in the dev issuer's paths.
    pub domain: &'static str,
    pub display_name: &'static str,
}

pub const CONVENE_TENANT: DemoTenant = DemoTenant {
    id: DEMO_TENANT_ID,
    domain: DEMO_TENANT_DOMAIN,
    display_name: "Convene Example",
};

pub const FABRIKAM_TENANT: DemoTenant = DemoTenant {
    id: FABRIKAM_TENANT_ID,
    domain: FABRIKAM_TENANT_DOMAIN,
    display_name: "Fabrikam Example",
};

/// All demo tenants, the default one first.
pub const DEMO_TENANTS: [DemoTenant; 2] = [CONVENE_TENANT, FABRIKAM_TENANT];

impl DemoTenant {
    /// The demo tenant with this id.
    pub fn by_id(id: Uuid) -> Option<DemoTenant> {
        DEMO_TENANTS.into_iter().find(|t| t.id == id)
    }

    /// The demo tenant a path segment names: its id or its domain (any case).
    pub fn by_id_or_domain(segment: &str) -> Option<DemoTenant> {
        let id = Uuid::try_parse(segment).ok();
        DEMO_TENANTS
            .into_iter()
            .find(|t| Some(t.id) == id || t.domain.eq_ignore_ascii_case(segment))
    }
}

/// One demo person, as the dev identity provider will describe them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoUser {
    /// The tenant (`tid`) the user belongs to.
    pub tenant_id: Uuid,
    /// Entra-style object id (`oid`): the stable way to address a user.
    pub object_id: Uuid,
    /// Sign-in name (`preferred_username`), also their mail address.
    pub user_principal_name: &'static str,
    pub display_name: &'static str,
}

pub const ALICE: DemoUser = DemoUser {
    tenant_id: DEMO_TENANT_ID,
    object_id: uuid!("00000000-a11c-4000-8000-000000000001"),
    user_principal_name: "alice@convene.example",
    display_name: "Alice Example",
};

pub const BOB: DemoUser = DemoUser {
    tenant_id: DEMO_TENANT_ID,
    object_id: uuid!("00000000-b0b0-4000-8000-000000000002"),
    user_principal_name: "bob@convene.example",
    display_name: "Bob Example",
};

pub const CAROL: DemoUser = DemoUser {
    tenant_id: DEMO_TENANT_ID,
    object_id: uuid!("00000000-ca01-4000-8000-000000000003"),
    user_principal_name: "carol@convene.example",
    display_name: "Carol Example",
};

/// The one user of the second demo tenant, Fabrikam.
pub const DAVE: DemoUser = DemoUser {
    tenant_id: FABRIKAM_TENANT_ID,
    object_id: uuid!("00000000-da7e-4000-8000-000000000004"),
    user_principal_name: "dave@fabrikam.example",
    display_name: "Dave Fabrikam",
};

/// All demo users of every demo tenant, in a stable order (by sign-in
/// name).
pub const DEMO_USERS: [DemoUser; 4] = [ALICE, BOB, CAROL, DAVE];

impl DemoUser {
    /// The user as the store keeps them, in their tenant.
    pub fn to_user(&self) -> User {
        User {
            tenant_id: self.tenant_id,
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
        assert_eq!(
            FABRIKAM_TENANT_ID.to_string(),
            "00000000-c0de-4000-8000-000000000002"
        );
        let ids: Vec<String> = DEMO_USERS.iter().map(|u| u.object_id.to_string()).collect();
        assert_eq!(
            ids,
            [
                "00000000-a11c-4000-8000-000000000001",
                "00000000-b0b0-4000-8000-000000000002",
                "00000000-ca01-4000-8000-000000000003",
                "00000000-da7e-4000-8000-000000000004",
            ]
        );
    }

    #[test]
    fn ids_are_rfc4122_version_4() {
        let tenants = DEMO_TENANTS.iter().map(|t| t.id);
        for id in tenants.chain(DEMO_USERS.iter().map(|u| u.object_id)) {
            assert_eq!(id.get_version_num(), 4, "{id}");
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122, "{id}");
        }
    }

    #[test]
    fn every_user_belongs_to_a_demo_tenant_with_their_domain() {
        for user in DEMO_USERS {
            let tenant = DemoTenant::by_id(user.tenant_id).unwrap();
            let (_, domain) = user.user_principal_name.split_once('@').unwrap();
            assert_eq!(domain, tenant.domain, "{user:?}");
            assert_eq!(user.to_user().tenant_id, tenant.id);
        }
        assert_eq!(DAVE.tenant_id, FABRIKAM_TENANT_ID);
    }

    #[test]
    fn tenants_are_found_by_id_or_domain() {
        assert_eq!(
            DemoTenant::by_id_or_domain("Fabrikam.Example"),
            Some(FABRIKAM_TENANT)
        );
        assert_eq!(
            DemoTenant::by_id_or_domain("00000000-C0DE-4000-8000-000000000002"),
            Some(FABRIKAM_TENANT)
        );
        assert_eq!(
            DemoTenant::by_id_or_domain("convene.example"),
            Some(CONVENE_TENANT)
        );
        for other in [
            "contoso.example",
            "00000000-c0de-4000-8000-000000000003",
            "",
        ] {
            assert_eq!(DemoTenant::by_id_or_domain(other), None, "{other}");
        }
    }
}
