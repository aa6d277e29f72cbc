using VirtTools.Diagnostics;

namespace VirtTools.UsbIp.Containers;

/// <summary>The failures of giving an imported USB device to a container and taking it back.</summary>
public static class ContainerErrors
{
    public const string InvalidNameId = "ContainerInvalidName";
    public const string NotRunningId = "ContainerNotRunning";
    public const string ManagerMissingId = "ContainerManagerMissing";
    public const string ManagerFailedId = "ContainerManagerFailed";
    public const string LiveSystemOnlyId = "ContainerLiveSystemOnly";
    public const string DeviceNotEnumeratedId = "ContainerDeviceNotEnumerated";
    public const string NoOwnControllerId = "ContainerNoOwnController";
    public const string NotUndoneId = "ContainerAttachNotUndone";
    public const string NodeNotRemovedId = "ContainerNodeNotRemoved";

    public static VirtToolsException InvalidName(string name, string problem) => new(InvalidNameId, FailureKind.InvalidArgument,
        $"The container name '{State.RecordField.Printable(name)}' {problem}.",
        "Give the name as lxc-ls lists it.", name);

    public static VirtToolsException NotRunning(string container) => new(NotRunningId, FailureKind.NotFound,
        $"The container '{container}' is not running: a device can only be given to a running container, whose device cgroup the container manager changes.",
        $"Start it (lxc-start -n {container}) and try again; lxc-ls --fancy lists the containers and their state.", container);

    public static VirtToolsException ManagerMissing(string tool, string container) => new(ManagerMissingId, FailureKind.NotInstalled,
        $"The LXC tool '{tool}' is not installed, so no device can be given to the container '{container}'.",
        "Install LXC (apt install lxc).", container);

    public static VirtToolsException ManagerFailed(string command, string why, string container) => new(ManagerFailedId, FailureKind.OperationFailed,
        $"'{command}' failed: {why}",
        $"Run the same command by hand to see LXC's own log (add -l DEBUG -o /dev/stderr), and check that the container '{container}' runs (lxc-info -n {container}).",
        container);

    /// <summary>The container manager acts on this machine, never on a tree under -Root.</summary>
    public static VirtToolsException LiveSystemOnly(string root, string container) => new(LiveSystemOnlyId, FailureKind.InvalidArgument,
        $"Devices are given to containers on the running system only, not under the root {root}: the container manager changes real containers.",
        "Leave -Root out (or give -Root /) to attach into a container.", container);

    public static VirtToolsException DeviceNotEnumerated(string busId, string localBusId, TimeSpan waited, string container) => new(DeviceNotEnumeratedId, FailureKind.Timeout,
        $"The device {busId} was attached as {localBusId} but did not appear in /sys/bus/usb/devices within {waited.TotalSeconds:0.#} seconds, so it could not be given to '{container}'; it was detached again.",
        "See the kernel log (dmesg | grep -i usb) for why the device did not enumerate.", container);

    /// <summary>-DedicatedController: the container's devices must stay on one controller, and that cannot hold.</summary>
    public static VirtToolsException NoOwnController(string container, string why) => new(NoOwnControllerId, FailureKind.LimitExceeded,
        $"The container '{container}' cannot keep its devices on a vhci_hcd controller of its own: {why}",
        "Detach devices no container needs (Get-UsbIpPort -InUse), or attach without -DedicatedController to use any free port.", container);

    /// <summary>The number is denied again, but the node could not be unlinked inside the container.</summary>
    public static VirtToolsException NodeNotRemoved(string path, string containerRoot, string container, Exception cause) => new(NodeNotRemovedId, FailureKind.OperationFailed,
        $"The container '{container}' no longer may use {path}, but the node could not be removed from it ({containerRoot}{path}): {cause.Message}",
        $"Remove it by hand (lxc-attach -n {container} -- rm {path}); the device cgroup already denies it.", container, cause);

    /// <summary>Giving the device failed, and so did undoing it: what is left must be said, not hidden.</summary>
    public static VirtToolsException NotUndone(string port, string container, Exception failure, Exception undo) => new(NotUndoneId, FailureKind.OperationFailed,
        $"Giving {port}'s device to '{container}' failed ({failure.Message}), and undoing it failed too ({undo.Message}).",
        $"Look at Get-UsbIpPort -Container {container}; detach what is left with Disconnect-UsbIpDevice, and check the container's nodes (lxc-attach -n {container} -- ls -l /dev).",
        container, failure);
}
