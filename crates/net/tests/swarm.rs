//! Real swarms on loopback TCP: the stem protocol end to end, and closed groups (pnet)
//! admitting only nodes with the same key.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::time::Duration;

use futures::StreamExt;
use qoima_net::libp2p::swarm::{DialError, SwarmEvent};
use qoima_net::libp2p::{Multiaddr, PeerId, Swarm, identity, request_response};
use qoima_net::{
    Behaviour, BehaviourEvent, GossipMessage, HANDSHAKE_TIMEOUT, NetConfig, StemRequest,
    StemResponse, build_swarm,
};

/// Past the handshake's own time limit: a dial between different keys may stall until
/// that limit, and must then be reported as failed.
const DEADLINE: Duration = Duration::from_secs(HANDSHAKE_TIMEOUT.as_secs() + 20);

fn swarm(network_key: Option<[u8; 32]>) -> Swarm<Behaviour> {
    let config = NetConfig {
        mdns: false,
        network_key,
        ..NetConfig::default()
    };
    build_swarm(identity::Keypair::generate_ed25519(), &config).unwrap()
}

/// Starts listening on loopback TCP and returns the address once it is up.
async fn listen(swarm: &mut Swarm<Behaviour>) -> Multiaddr {
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .unwrap();
    loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            return address;
        }
    }
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Connected,
    Refused,
}

/// Dials `b` from `a` and drives both until the dialer either has a connection to `b`
/// (and `b` to `a`) or has given up on it.
async fn dial_outcome(a: &mut Swarm<Behaviour>, b: &mut Swarm<Behaviour>) -> Outcome {
    let addr = listen(b).await;
    let b_id = *b.local_peer_id();
    let a_id = *a.local_peer_id();
    a.dial(addr).unwrap();
    let (mut a_up, mut b_up) = (false, false);
    tokio::time::timeout(DEADLINE, async {
        loop {
            tokio::select! {
                event = a.select_next_some() => match event {
                    SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == b_id => a_up = true,
                    SwarmEvent::OutgoingConnectionError { error, .. } => {
                        assert!(!matches!(error, DialError::LocalPeerId { .. }));
                        return Outcome::Refused;
                    }
                    _ => {}
                },
                event = b.select_next_some() => if let SwarmEvent::ConnectionEstablished { peer_id, .. } = event {
                    assert_eq!(peer_id, a_id);
                    b_up = true;
                },
            }
            if a_up && b_up {
                return Outcome::Connected;
            }
        }
    })
    .await
    .expect("the dial ends one way or the other before the deadline")
}

#[tokio::test]
async fn same_key_connects() {
    let key = [7u8; 32];
    assert_eq!(
        dial_outcome(&mut swarm(Some(key)), &mut swarm(Some(key))).await,
        Outcome::Connected
    );
}

#[tokio::test]
async fn another_key_is_refused() {
    assert_eq!(
        dial_outcome(&mut swarm(Some([7; 32])), &mut swarm(Some([8; 32]))).await,
        Outcome::Refused
    );
}

#[tokio::test]
async fn no_key_and_a_key_do_not_connect() {
    assert_eq!(
        dial_outcome(&mut swarm(None), &mut swarm(Some([7; 32]))).await,
        Outcome::Refused
    );
    assert_eq!(
        dial_outcome(&mut swarm(Some([7; 32])), &mut swarm(None)).await,
        Outcome::Refused
    );
}

#[tokio::test]
async fn a_closed_group_has_no_quic() {
    let mut closed = swarm(Some([7; 32]));
    let quic: Multiaddr = "/ip4/127.0.0.1/udp/0/quic-v1".parse().unwrap();
    assert!(closed.listen_on(quic.clone()).is_err());
    let config = NetConfig {
        network_key: Some([7; 32]),
        ..NetConfig::default()
    };
    assert!(!config.supports_address(&quic));
    assert!(config.supports_address(&"/ip4/127.0.0.1/tcp/1".parse().unwrap()));
    assert!(NetConfig::default().supports_address(&quic));
}

#[tokio::test]
async fn open_swarms_connect() {
    assert_eq!(
        dial_outcome(&mut swarm(None), &mut swarm(None)).await,
        Outcome::Connected
    );
}

/// The author's node hands a message to a peer, which gets exactly the gossip bytes and
/// answers; a refusal comes back as sent.
#[tokio::test]
async fn stem_hands_over_the_exact_gossip_bytes() {
    let (mut a, mut b) = (swarm(None), swarm(None));
    assert_eq!(dial_outcome(&mut a, &mut b).await, Outcome::Connected);
    let b_id: PeerId = *b.local_peer_id();
    let messages = [
        GossipMessage::Bundle(vec![1, 2, 3]),
        GossipMessage::Announce {
            ids: vec![[5; 32]; 3],
        },
    ];
    for (i, message) in messages.into_iter().enumerate() {
        let sent = a
            .behaviour_mut()
            .stem
            .send_request(&b_id, StemRequest::new(message.clone()));
        let answer = if i == 0 {
            StemResponse::Accepted
        } else {
            StemResponse::refused("not this collection")
        };
        let got = tokio::time::timeout(DEADLINE, async {
            loop {
                tokio::select! {
                    event = a.select_next_some() => if let SwarmEvent::Behaviour(BehaviourEvent::Stem(
                        request_response::Event::Message {
                            message: request_response::Message::Response { request_id, response },
                            ..
                        },
                    )) = event {
                        assert_eq!(request_id, sent);
                        return response;
                    },
                    event = b.select_next_some() => if let SwarmEvent::Behaviour(BehaviourEvent::Stem(
                        request_response::Event::Message {
                            message: request_response::Message::Request { request, channel, .. },
                            ..
                        },
                    )) = event {
                        assert_eq!(request.message(), &message);
                        assert_eq!(request.bytes(), &message.to_bytes()[..]);
                        b.behaviour_mut().stem.send_response(channel, answer.clone()).unwrap();
                    },
                }
            }
        })
        .await
        .expect("the stem answer arrives before the deadline");
        assert_eq!(got, answer);
    }
}
