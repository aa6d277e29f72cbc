# What an admin writes instead of Get-UsbIpPort: parse every vhci_hcd status file and read the attach record
# of each port in use, with core commands and .NET calls only.
param($Root)
$platform = "$Root/sys/devices/platform"
$controllers = @([IO.Directory]::GetDirectories($platform) | Where-Object { [IO.Path]::GetFileName($_).StartsWith('vhci_hcd.') }).Count
for ($c = 0; $c -lt $controllers; $c++) {
    $file = if ($c -eq 0) { "$platform/vhci_hcd.0/status" } else { "$platform/vhci_hcd.0/status.$c" }
    $lines = [IO.File]::ReadAllText($file) -split "`n"
    foreach ($line in $lines[1..($lines.Count - 1)]) {
        $f = -split $line
        if ($f.Count -lt 7) { continue }
        $record = if ($f[2] -eq '006') {
            $p = "$Root/var/run/vhci_hcd/port$([int]$f[1])"
            if ([IO.File]::Exists($p)) { -split [IO.File]::ReadAllText($p) }
        }
        if (-not $record) { $record = @($null, $null, $null) }
        [pscustomobject]@{
            Controller = "vhci_hcd.$c"; Hub = $f[0]; Port = [int]$f[1]; Status = [int]$f[2]; Speed = [int]$f[3]
            DeviceId = $f[4]; SocketFd = [int]$f[5]; LocalBusId = $f[6]
            RemoteHost = $record[0]; RemoteTcpPort = $record[1]; RemoteBusId = $record[2]
        }
    }
}
