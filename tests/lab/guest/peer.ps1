# The peer guest's side of the lab's two-guest scenarios: guest/init runs it when lab.role=peer. It serves the main
# guest's scenario on the lab's LAN (lib/qemu.sh: the two guests' own link, nothing else reaches it) at 10.10.0.2:7000,
# one script per connection (scenarios/_Lab.ps1: Invoke-LabPeer): the script's text up to the end of the sending half,
# run in this one process with _Lab.ps1's helpers (dot-sourced: its variables stay for the next script), answered with
#   log <line>            what it wrote to the console (Write-LabLine: LAB-DIAG lines, tool transcripts)
#   out <line>            its output, as text
#   LAB-PEER-END          last line: it ran to the end
#   LAB-PEER-ERROR <text> last line: it stopped on an error
# The loop's variables are named $peer*, so a script's own variables cannot replace them. A request is bounded (1 MiB,
# 60 s to arrive); what a script does is the scenario's business, as on the main guest.
. /lab/scenarios/_Lab.ps1
$script:LabPeerRequestLimit = 1MB

# The request's text: everything the main guest sent before it shut its sending half.
function Read-LabPeerRequest([Net.Sockets.NetworkStream] $Stream) {
    $buffer = [IO.MemoryStream]::new()
    $chunk = [byte[]]::new(64KB)
    while (($count = $Stream.Read($chunk, 0, $chunk.Length)) -gt 0) {
        if ($buffer.Length + $count -gt $script:LabPeerRequestLimit) { throw "request larger than $script:LabPeerRequestLimit bytes" }
        $buffer.Write($chunk, 0, $count)
    }
    return [Text.Encoding]::UTF8.GetString($buffer.ToArray())
}

$peerListener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Parse('10.10.0.2'), 7000)
$peerListener.Start()
Write-LabLine 'LAB-PEER listening on 10.10.0.2:7000'
while ($true) {
    $peerClient = $peerListener.AcceptTcpClient()
    $peerConsole = [Console]::Out
    $peerLog = [IO.StringWriter]::new()
    $peerOutput = @()
    try {
        $peerClient.ReceiveTimeout = 60000
        $peerRequest = Read-LabPeerRequest $peerClient.GetStream()
        [Console]::SetOut($peerLog)
        try {
            $peerOutput = @(. ([scriptblock]::Create($peerRequest)) 2>&1 | ForEach-Object { "$_" })
            $peerStatus = 'LAB-PEER-END'
        }
        finally { [Console]::SetOut($peerConsole) }
    }
    catch { $peerStatus = "LAB-PEER-ERROR $($_.Exception.Message)" -replace '[\r\n]+', ' ' }
    try {
        $peerAnswer = [Text.StringBuilder]::new()
        foreach ($peerLine in $peerLog.ToString() -split '\r?\n') { if ($peerLine) { $null = $peerAnswer.Append("log $peerLine`n") } }
        foreach ($peerLine in $peerOutput -split '\r?\n') { $null = $peerAnswer.Append("out $peerLine`n") }
        $null = $peerAnswer.Append("$peerStatus`n")
        $peerBytes = [Text.Encoding]::UTF8.GetBytes($peerAnswer.ToString())
        $peerClient.GetStream().Write($peerBytes, 0, $peerBytes.Length)
    }
    catch { Write-LabLine "LAB-PEER could not answer: $($_.Exception.Message)" }
    finally { $peerClient.Dispose() }
}
