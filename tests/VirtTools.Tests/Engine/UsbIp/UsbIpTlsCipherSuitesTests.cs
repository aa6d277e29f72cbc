using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using VirtTools.Tests.Support;
using VirtTools.UsbIp.Tls;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>The suite a VirtTools client and server agree on, from the options each end's handshake uses.</summary>
public sealed class UsbIpTlsCipherSuitesTests(TestCertificates certificates) : IClassFixture<TestCertificates>
{
    [Fact]
    public async Task A_VirtTools_client_and_server_agree_on_ChaCha20_Poly1305_over_TLS_1_3()
    {
        var server = UsbIpTlsServerCredentials.Load(new UsbIpTlsServerSettings
        {
            CertificatePath = certificates.ServerCertificatePath,
            KeyPath = certificates.ServerKeyPath,
            ClientCaPath = certificates.CaPath,
        });
        var client = UsbIpTlsClientCredentials.Load(new UsbIpTlsClientSettings
        {
            CertificatePath = certificates.ClientCertificatePath,
            KeyPath = certificates.ClientKeyPath,
            ServerCaPath = certificates.CaPath,
        });
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var connecting = new TcpClient();
        await connecting.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var accepted = await listener.AcceptTcpClientAsync();
        await using var near = new SslStream(accepted.GetStream());
        await using var far = new SslStream(connecting.GetStream());
        using var waiting = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await Task.WhenAll(
            near.AuthenticateAsServerAsync(server.OptionsFor(_ => { }), waiting.Token),
            far.AuthenticateAsClientAsync(client.OptionsFor("localhost", _ => { }), waiting.Token));

        Assert.Equal(TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256, far.NegotiatedCipherSuite);
        Assert.Equal(TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256, near.NegotiatedCipherSuite);
        Assert.Equal(System.Security.Authentication.SslProtocols.Tls13, far.SslProtocol);
    }
}
