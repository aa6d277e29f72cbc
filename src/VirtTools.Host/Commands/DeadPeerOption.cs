using System.Globalization;
using VirtTools.UsbIp;

namespace VirtTools.Host.Commands;

/// <summary>`--dead-peer-timeout SECONDS`, shared by `virttools usbipd` and `virttools agent`.</summary>
internal static class DeadPeerOption
{
    public const string Name = "--dead-peer-timeout";

    /// <summary>The policy for a value in whole seconds within the policy's range; otherwise false and what is wrong.</summary>
    public static bool TryParse(string value, ref UsbIpDeadPeerPolicy policy, out string problem)
    {
        problem = $"'{value}' is not a dead-peer timeout in whole seconds " +
            $"({UsbIpDeadPeerPolicy.MinimumTimeout.TotalSeconds:0} to {UsbIpDeadPeerPolicy.MaximumTimeout.TotalSeconds:0}).";
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return false;
        var timeout = TimeSpan.FromSeconds(seconds);
        if (timeout < UsbIpDeadPeerPolicy.MinimumTimeout || timeout > UsbIpDeadPeerPolicy.MaximumTimeout) return false;
        policy = UsbIpDeadPeerPolicy.Within(timeout);
        return true;
    }
}
