using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace VirtTools.UsbIp.Tls;

/// <summary>The client's TLS handshake on a connected socket, its failures said as this client's errors.</summary>
internal static class UsbIpTlsConnector
{
    /// <summary>
    /// <paramref name="socket"/> (which it then owns) with TLS on it, in <see cref="RelayConnection.Tls"/>; nothing
    /// USB/IP is sent before the server is trusted.
    /// </summary>
    public static async Task<RelayConnection> AuthenticateAsync(Socket socket, string computerName, string server, UsbIpTlsClientCredentials credentials,
        CancellationToken cancellation)
    {
        string? distrust = null;
        var connection = new RelayConnection(socket, ownsSocket: true);
        var tls = connection.Tls;
        try
        {
            await tls.AuthenticateAsClientAsync(credentials.OptionsFor(computerName, reason => distrust = reason), cancellation).ConfigureAwait(false);
            return connection;
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            if (distrust is not null) throw UsbIpErrors.TlsServerNotTrusted(server, computerName, distrust, credentials.Names);
            throw UsbIpErrors.TlsHandshakeFailed(server, computerName, e, credentials.Names);
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
