"""The customer web widget: one ``<script>`` tag puts live chat on any website, as an SDK client."""
